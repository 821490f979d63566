/**
 * A pool of decode threads. `run(entry)` resolves with the entry's outcome. Each thread has
 * several entries queued (it works on a couple at once, so its share of sharp's work overlaps
 * with its JavaScript work): enough that it keeps busy while the coordinator is away committing.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EntryOutcome } from './process-entry.js';
import type { SourceEntry } from './sources.js';
import type { ThreadData, ThreadReply } from './decode-thread.js';

const PER_THREAD = 10; // entries sent to a thread and not yet answered

interface Pending {
  resolve: (o: EntryOutcome) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Array<{ id: number; entry: SourceEntry }> = [];
  private nextId = 1;
  private failure: Error | null = null;

  constructor(threads: number, data: ThreadData) {
    const n = threads > 0 ? threads : availableParallelism();
    const entry = threadEntry();
    for (let i = 0; i < n; i++) {
      const worker = startThread(entry, data);
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (reply: ThreadReply) => {
        slot.busy--;
        const p = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if ('error' in reply) p?.reject(new Error(`Decoding failed unexpectedly: ${reply.error}`));
        else p?.resolve(reply.outcome);
        this.pump();
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0 && !this.closed) this.fail(new Error(`A decode thread stopped (exit code ${code}).`));
      });
      this.slots.push(slot);
    }
  }

  private closed = false;

  get size(): number {
    return this.slots.length;
  }

  run(entry: SourceEntry): Promise<EntryOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<EntryOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.queue.push({ id, entry });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
      if (slot.busy >= PER_THREAD) return;
      const job = this.queue.shift()!;
      slot.busy++;
      slot.worker.postMessage(job);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** The thread's module: prebuilt `.js` beside this file when packaged, else the TypeScript source. */
function threadEntry(): URL {
  const js = new URL('./decode-thread.js', import.meta.url);
  return existsSync(fileURLToPath(js)) ? js : new URL('./decode-thread.ts', import.meta.url);
}

/**
 * Loader hooks do not follow a process into its threads: a TypeScript entry gets tsx registered
 * first, by a two-line bootstrap. tsx's CommonJS loader, registered inside the thread, transpiles
 * the thread's modules (no top-level await, no import.meta) on require, in the thread itself; its
 * ESM loader would start a loader thread of its own for each decode thread and answer every
 * import through it (about 0.3 s more per thread before its first image).
 */
function startThread(entry: URL, data: ThreadData): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: data });
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(fileURLToPath(entry))});`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}
