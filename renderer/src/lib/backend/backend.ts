/**
 * IBackend: the one thing the UI talks to. Two implementations: Electron (the preload's
 * `window.atelier` transport) and the browser mode (a WebSocket to the serving host). Views and
 * state depend on this interface only, so every view runs in a plain browser too.
 */
import type { Method, Params, ResultOf, StudioEvent } from '../../../../core/api/contract.js';
import type { Result } from '../../../../core/api/errors.js';

/**
 * Where the link to the core service stands.
 * - `connecting`: the first connection is being made; calls wait for it.
 * - `open`: calls go through.
 * - `lost`: the link dropped; the backend retries on its own and calls fail at once.
 */
export type ConnectionState = 'connecting' | 'open' | 'lost';

export interface ConnectionStatus {
  state: ConnectionState;
  /** Failed reconnection attempts since the link was lost. */
  attempts: number;
  /** When the next attempt starts (ms since epoch), while `lost`. */
  nextRetryAt: number | null;
}

export type EventListener = (event: StudioEvent) => void;
export type ConnectionListener = (status: ConnectionStatus) => void;

export interface IBackend {
  /** Which host this is: the desktop app's IPC or the browser mode's socket. */
  readonly transport: 'ipc' | 'ws';
  /** Calls a StudioApi method. Never rejects: failures come back as `{ok: false, error}`. */
  call<M extends Method>(method: M, params: Params<M>): Promise<Result<ResultOf<M>>>;
  /** Listens to service events; returns an unsubscribe. */
  subscribe(listener: EventListener): () => void;
  /** The link's state now. */
  readonly connection: ConnectionStatus;
  /** Listens to changes of `connection`; returns an unsubscribe. */
  onConnection(listener: ConnectionListener): () => void;
  /** Skips the wait before the next reconnection attempt. */
  reconnectNow(): void;
}

/** The error a call gets when the link to the service is down. */
export function connectionLost(detail: string): Result<never> {
  return {
    ok: false,
    error: {
      code: 'unavailable',
      message: `${detail} The studio is reconnecting; try again once the "connection lost" notice is gone.`,
    },
  };
}
