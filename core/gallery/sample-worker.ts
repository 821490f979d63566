/**
 * The sampling worker's entry: a child process that lives while a project is open in the
 * studio (or while a CLI command runs), with the project file on its own connection and a
 * TF.js backend started. It answers one request at a time (core/gallery/sampler-host.ts) and
 * streams images back as they are made; a cancelled request stops at its next batch.
 */
import type { ApiError } from '../api/errors.js';
import { UserError } from '../api/errors.js';
import { BackendUnavailableError, selectBackend } from '../backend/select.js';
import { APP_VERSION } from '../api/version.js';
import { workerMain } from '../jobs/worker-main.js';
import { openProjectDb } from '../store/project-file.js';
import type { FromSampler, SamplerOp, ToSampler } from './sample-protocol.js';
import { SamplerHost } from './sampler-host.js';

// Ctrl+C in a terminal reaches the whole process group: the parent decides when this one ends.
const channel = workerMain<ToSampler, FromSampler>('sampling');
const send = (msg: FromSampler): void => channel.send(msg);
const toApiError = (err: unknown): ApiError => {
  if (err instanceof UserError) return err.toApiError();
  console.error(err);
  return { code: 'internal', message: `The sampling worker failed: ${(err as Error)?.message ?? String(err)}. This is a bug in the studio; nothing stored was changed.` };
};

let host: SamplerHost | null = null;
const queue: Array<{ id: number; op: SamplerOp }> = [];
const cancelled = new Set<number>();
let busy = false;

async function drain(): Promise<void> {
  if (busy || host === null) return;
  busy = true;
  try {
    while (queue.length > 0) {
      const { id, op } = queue.shift()!;
      if (cancelled.delete(id)) {
        send({ type: 'result', id, value: op.op === 'render' ? { count: 0, cancelled: true } : null });
        continue;
      }
      try {
        const value = await host.run(op, {
          item: (index, png) => send({ type: 'item', id, index, png }),
          progress: (phase, done, total) => send({ type: 'progress', id, phase, done, total }),
          cancelled: () => cancelled.has(id),
        });
        send({ type: 'result', id, value });
      } catch (err) {
        send({ type: 'error', id, error: toApiError(err) });
      } finally {
        cancelled.delete(id);
      }
    }
  } finally {
    busy = false;
  }
}

channel.onMessage((msg) => {
  if (msg.type === 'init') {
    if (host !== null) return;
    void (async () => {
      try {
        const choice = await selectBackend(msg.backend !== undefined ? { prefer: msg.backend, preferSource: 'the sampling settings' } : {});
        const db = openProjectDb(msg.projectPath, { role: 'worker' });
        host = new SamplerHost(db, choice.name, APP_VERSION);
        const used = choice.tried[choice.tried.length - 1];
        send({ type: 'ready', backend: choice.name, detail: used?.reason ?? '' });
        void drain();
      } catch (err) {
        send({ type: 'init-failed', error: err instanceof BackendUnavailableError ? { code: 'unavailable', message: err.message } : toApiError(err) });
      }
    })();
  } else if (msg.type === 'request') {
    queue.push({ id: msg.id, op: msg.op });
    void drain();
  } else if (msg.type === 'cancel') {
    cancelled.add(msg.id);
  }
});

// The studio went away (or closed the project): leave.
channel.onDisconnect(() => {
  host?.dispose();
  process.exit(0);
});
