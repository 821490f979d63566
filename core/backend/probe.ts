/** Asks a short-lived worker which compute backend training would use, and why not the better ones. */
import { availableParallelism } from 'node:os';
import type { ComputeBackendReport } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { askWorker } from '../jobs/ask-worker.js';

const PROBE = new URL('./probe-worker.ts', import.meta.url);
const TIMEOUT_MS = 120_000;

export function probeBackends(env?: NodeJS.ProcessEnv): Promise<ComputeBackendReport> {
  return askWorker(PROBE, {
    ...(env ? { spawn: { env } } : {}),
    timeoutMs: TIMEOUT_MS,
    answer: (raw) => {
      const msg = raw as ComputeBackendReport;
      return { chosen: msg.chosen, tried: msg.tried, added: msg.added, cores: availableParallelism() };
    },
    timedOut: () => new UserError('internal', 'Checking the compute backends took more than 2 minutes and was stopped. Try again; if it repeats, start with ATELIER_BACKEND=wasm.'),
    died: (why, lastLine) => new UserError('internal', `Checking the compute backends failed (${why}): ${lastLine}.`),
  });
}
