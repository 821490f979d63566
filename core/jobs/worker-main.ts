/**
 * What every engine worker's entry does first (train, evaluate, import, sampling, the backend
 * probe): keep running through what would otherwise kill it before it saves, and open its
 * channel to the service (core/jobs/channel.ts).
 */
import { parentChannel, type ParentChannel } from './channel.js';

export interface WorkerMainOptions {
  /**
   * 'ignore' (default): Ctrl+C in a terminal reaches the whole process group, and the parent
   * relays it as a pause or a stop — the worker must not die of it before saving. 'default':
   * a short check (the backend probe) may simply end with its command.
   */
  sigint?: 'ignore' | 'default';
}

let installed = false;

/** Installs the preamble (once) and returns the channel to the service; throws when the process has none. */
export function workerMain<In, Out>(name: string, options: WorkerMainOptions = {}): ParentChannel<In, Out> {
  if (!installed) {
    installed = true;
    if ((options.sigint ?? 'ignore') === 'ignore') process.on('SIGINT', () => {});
    // A message sent just as the parent dies fails with EPIPE, emitted on `process`: unhandled, it
    // would kill the worker before the 'disconnect' pause saves a checkpoint.
    process.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_IPC_CHANNEL_CLOSED' && err.code !== 'ERR_IPC_DISCONNECTED') throw err;
    });
  }
  const channel = parentChannel<In, Out>();
  if (!channel) throw new Error(`The ${name} worker must be started by the studio (it has no channel to it).`);
  return channel;
}
