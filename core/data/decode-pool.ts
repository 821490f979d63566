/**
 * A pool of decode threads. `run(entry)` resolves with the entry's outcome; each thread holds a
 * couple of entries at once so its share of sharp's work overlaps with its JavaScript work.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EntryOutcome } from './process-entry.js';
import type { SourceEntry } from './sources.js';
import type { ThreadData, ThreadReply } from './decode-thread.js';

const PER_THREAD = 2; // entries in flight per thread

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
 * first, by a two-line bootstrap (as bin/atelier.js does for the CLI).
 */
function startThread(entry: URL, data: ThreadData): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: data });
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}
