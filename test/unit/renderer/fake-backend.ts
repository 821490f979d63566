/**
 * A stand-in for the service behind IBackend, for the renderer state tests: every call waits until
 * the test answers it (so answers can come late and out of order, as over a real link), events
 * and link changes are pushed by the test.
 */
import type { Method, Params, ResultOf, StudioEvent } from '../../../core/api/contract.js';
import type { ApiError, Result } from '../../../core/api/errors.js';
import type { ConnectionListener, ConnectionStatus, EventListener, IBackend } from '../../../renderer/src/lib/backend/backend.js';

export interface PendingCall {
  method: Method;
  params: unknown;
  answer(value: unknown): void;
  fail(error: ApiError): void;
}

export class FakeBackend implements IBackend {
  readonly transport = 'ws' as const;
  connection: ConnectionStatus = { state: 'open', attempts: 0, nextRetryAt: null };
  /** Calls not answered yet, oldest first. */
  readonly pending: PendingCall[] = [];
  /** Every call made, in order. */
  readonly calls: Array<{ method: Method; params: unknown }> = [];
  private readonly listeners: EventListener[] = [];
  private readonly connectionListeners: ConnectionListener[] = [];

  call<M extends Method>(method: M, params: Params<M>): Promise<Result<ResultOf<M>>> {
    this.calls.push({ method, params });
    return new Promise((resolve) => {
      this.pending.push({
        method,
        params,
        answer: (value) => resolve({ ok: true, value: value as ResultOf<M> }),
        fail: (error) => resolve({ ok: false, error }),
      });
    });
  }

  /** The oldest unanswered call of `method`, taken off the list; throws when there is none. */
  take(method: Method): PendingCall {
    const i = this.pending.findIndex((c) => c.method === method);
    if (i < 0) throw new Error(`no pending ${method} call (pending: ${this.pending.map((c) => c.method).join(', ') || 'none'})`);
    return this.pending.splice(i, 1)[0]!;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  emit(event: StudioEvent): void {
    for (const l of this.listeners) l(event);
  }

  onConnection(listener: ConnectionListener): () => void {
    this.connectionListeners.push(listener);
    return () => this.connectionListeners.splice(this.connectionListeners.indexOf(listener), 1);
  }

  setConnection(status: ConnectionStatus): void {
    this.connection = status;
    for (const l of this.connectionListeners) l(status);
  }

  reconnectNow(): void {}
}

/** The real timer, captured before a test mocks timers (t.mock.timers replaces the global). */
const realSetTimeout = globalThis.setTimeout;

/**
 * Lets queued promise callbacks run (an answered call's continuation), and a timer due "at once"
 * (setTimeout 0 waits at least 1 ms: a few event-loop turns can take less than that).
 */
export async function settle(): Promise<void> {
  const turns = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  await turns();
  await new Promise<void>((resolve) => realSetTimeout(resolve, 3));
  await turns();
}
