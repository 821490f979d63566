/** Asks a short-lived worker which compute backend training would use, and why not the better ones. */
import { availableParallelism } from 'node:os';
import type { ComputeBackendReport } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { spawnWorker } from '../jobs/spawn.js';

const PROBE = new URL('./probe-worker.ts', import.meta.url);
const TIMEOUT_MS = 120_000;

export function probeBackends(env?: NodeJS.ProcessEnv): Promise<ComputeBackendReport> {
  return new Promise((resolve, reject) => {
    const child = spawnWorker(PROBE, { stderr: 'pipe', ...(env ? { env } : {}) });
    let stderr = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new UserError('internal', 'Checking the compute backends took more than 2 minutes and was stopped. Try again; if it repeats, start with ATELIER_BACKEND=wasm.')));
    }, TIMEOUT_MS);
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.onMessage((raw) => {
      const msg = raw as ComputeBackendReport;
      finish(() => resolve({ chosen: msg.chosen, tried: msg.tried, added: msg.added, cores: availableParallelism() }));
    });
    child.onExit((code, signal) =>
      finish(() => reject(new UserError('internal', `Checking the compute backends failed (${signal ?? `code ${code}`}): ${stderr.trim().split('\n').pop() ?? 'no output'}.`))),
    );
  });
}
