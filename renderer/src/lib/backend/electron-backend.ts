/** IBackend over Electron's preload bridge (`window.atelier`): IPC never drops, so it is always open. */
import type { AtelierBridge } from '../../../../core/api/bridge.js';
import type { Method, Params, ResultOf } from '../../../../core/api/contract.js';
import type { Result } from '../../../../core/api/errors.js';
import type { ConnectionListener, ConnectionStatus, EventListener, IBackend } from './backend.js';

const OPEN: ConnectionStatus = { state: 'open', attempts: 0, nextRetryAt: null };

export class ElectronBackend implements IBackend {
  readonly transport = 'ipc';
  readonly connection = OPEN;
  private readonly bridge: AtelierBridge;

  constructor(bridge: AtelierBridge) {
    this.bridge = bridge;
  }

  async call<M extends Method>(method: M, params: Params<M>): Promise<Result<ResultOf<M>>> {
    try {
      return (await this.bridge.invoke(method, params)) as Result<ResultOf<M>>;
    } catch (err) {
      // Main answers with a Result; a throw here means IPC itself failed.
      return {
        ok: false,
        error: { code: 'internal', message: `${method} could not reach the studio's main process: ${(err as Error)?.message ?? String(err)}. Restart the studio.` },
      };
    }
  }

  subscribe(listener: EventListener): () => void {
    return this.bridge.subscribe(listener);
  }

  onConnection(_listener: ConnectionListener): () => void {
    return () => undefined;
  }

  reconnectNow(): void {}
}
