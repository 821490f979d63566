/**
 * The service's side of the sampling worker: starts it on first use (core/jobs/spawn.ts, as
 * jobs are),
 * sends requests, routes streamed images and progress to each request's callbacks, and settles
 * each request with its result. A worker that dies fails what it was doing with the reason, and
 * the next request starts a fresh one.
 */
import { UserError } from '../api/errors.js';
import { SAMPLING_WORKER, describeDeath } from '../jobs/death.js';
import { spawnWorker, stderrTail, type WorkerProcess } from '../jobs/spawn.js';
import type { FromSampler, OpResults, SamplerOp, ToSampler } from './sample-protocol.js';

export const SAMPLE_WORKER = new URL('./sample-worker.ts', import.meta.url);

export interface RequestHandlers {
  onItem?: (index: number, png: Uint8Array) => void;
  onProgress?: (phase: string, done: number, total: number) => void;
}

interface Pending extends RequestHandlers {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Worker {
  child: WorkerProcess;
  ready: Promise<{ backend: string; detail: string }>;
}

export interface SamplerClientOptions {
  /** A backend by name; absent: ATELIER_BACKEND, else the best that loads. */
  backend?: string;
}

export class SamplerClient {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** The backend the worker runs on, once it is ready. */
  backend: string | null = null;

  constructor(
    private readonly projectPath: string,
    private readonly options: SamplerClientOptions = {},
  ) {}

  /** Starts the worker if needed; resolves when its backend is up. */
  start(): Promise<{ backend: string; detail: string }> {
    if (this.closed) return Promise.reject(new UserError('unavailable', 'The project was closed; open it again to sample.'));
    if (this.worker) return this.worker.ready;
    const child = spawnWorker(SAMPLE_WORKER, { stderr: 'pipe' });
    let settle!: (v: { backend: string; detail: string }) => void;
    let fail!: (e: Error) => void;
    const ready = new Promise<{ backend: string; detail: string }>((res, rej) => {
      settle = res;
      fail = rej;
    });
    const w: Worker = { child, ready };
    ready.catch(() => {});
    this.worker = w;
    const stderr = stderrTail(child);
    child.onMessage((raw) => {
      const msg = raw as FromSampler;
      switch (msg.type) {
        case 'ready':
          this.backend = msg.backend;
          settle({ backend: msg.backend, detail: msg.detail });
          break;
        case 'init-failed': {
          // Its backend or the project could not start: the next request tries a fresh worker.
          const err = new UserError(msg.error.code, msg.error.message, msg.error.subject);
          fail(err);
          if (this.worker === w) this.worker = null;
          for (const p of this.pending.values()) p.reject(err);
          this.pending.clear();
          child.kill();
          break;
        }
        case 'item':
          this.pending.get(msg.id)?.onItem?.(msg.index, msg.png);
          break;
        case 'progress':
          this.pending.get(msg.id)?.onProgress?.(msg.phase, msg.done, msg.total);
          break;
        case 'result':
          this.pending.get(msg.id)?.resolve(msg.value);
          this.pending.delete(msg.id);
          break;
        case 'error':
          this.pending.get(msg.id)?.reject(new UserError(msg.error.code, msg.error.message, msg.error.subject));
          this.pending.delete(msg.id);
          break;
      }
    });
    const died = (message: string): void => {
      if (this.worker !== w) return;
      this.worker = null;
      this.backend = null;
      const err = new UserError('internal', message);
      fail(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    child.onExit((code, signal) => died(describeDeath(SAMPLING_WORKER, code, signal, stderr())));
    child.onError((err) => died(`The sampling worker could not start: ${err.message}. Nothing stored was lost; try again.`));
    const init: ToSampler = { type: 'init', projectPath: this.projectPath, ...(this.options.backend !== undefined ? { backend: this.options.backend } : {}) };
    child.send(init);
    return ready;
  }

  /** Sends a request; `done` settles with its result. */
  request<K extends SamplerOp['op']>(op: Extract<SamplerOp, { op: K }>, handlers: RequestHandlers = {}): { id: number; done: Promise<OpResults[K]> } {
    const id = this.nextId++;
    const done = new Promise<OpResults[K]>((resolve, reject) => {
      this.pending.set(id, { ...handlers, resolve: resolve as (v: unknown) => void, reject });
    });
    void this.start().then(
      () => {
        const msg: ToSampler = { type: 'request', id, op };
        this.worker?.child.send(msg);
      },
      (err: Error) => {
        this.pending.get(id)?.reject(err);
        this.pending.delete(id);
      },
    );
    return { id, done };
  }

  /** Asks the worker to drop a request (stops at its next batch; its result says so). */
  cancel(id: number): boolean {
    if (!this.pending.has(id) || !this.worker) return false;
    const msg: ToSampler = { type: 'cancel', id };
    this.worker.child.send(msg);
    return true;
  }

  /** Ends the worker (it leaves when its channel closes). */
  async dispose(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new UserError('unavailable', 'The project was closed before this finished.'));
    this.pending.clear();
    if (!w) return;
    const exited = new Promise<void>((r) => (w.child.exited ? r() : w.child.onExit(() => r())));
    w.child.disconnect();
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') w.child.kill('SIGKILL');
  }
}
