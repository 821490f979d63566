/**
 * What Electron's preload exposes as `window.atelier`: a transport and nothing else. The
 * renderer's Electron backend wraps it; main answers on IPC_INVOKE and pushes on IPC_EVENT.
 */
import type { StudioEvent } from './contract.js';
import type { Result } from './errors.js';

export interface AtelierBridge {
  /** Calls a StudioApi method in the main process. */
  invoke(method: string, params: unknown): Promise<Result<unknown>>;
  /** Listens to service events; returns an unsubscribe. */
  subscribe(listener: (event: StudioEvent) => void): () => void;
}
