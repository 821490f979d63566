/**
 * Reads an ONNX generator for the Merge view before any merge (`merge.probeSource`): a
 * short-lived worker (onnx-probe-worker.ts) loads it in ONNX Runtime, infers what it can from the
 * graph, makes a few images and exits, so the service's loop never waits on a graph.
 */
import type { OnnxProbeInfo } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { spawnWorker } from '../jobs/spawn.js';
import type { ProbeAnswer, ProbeRequest } from './onnx-probe-worker.js';
import type { OnnxSourceOptions } from './onnx-source.js';

const WORKER = new URL('./onnx-probe-worker.ts', import.meta.url);
/** A generator too slow to make 8 images in this long is not worth merging here. */
const TIMEOUT_MS = 120_000;

export function probeOnnxSource(path: string, options?: OnnxSourceOptions): Promise<OnnxProbeInfo> {
  return new Promise((resolve, reject) => {
    const child = spawnWorker(WORKER, { stderr: 'pipe' });
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
      finish(() => reject(new UserError('unavailable', `Reading ${path} took more than 2 minutes and was stopped: this generator is too slow to merge here.`, path)));
    }, TIMEOUT_MS);
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.onMessage((raw) => {
      const answer = raw as ProbeAnswer;
      finish(() => (answer.ok ? resolve(answer.value) : reject(new UserError(answer.error.code, answer.error.message, answer.error.subject))));
    });
    child.onError((err) => finish(() => reject(new UserError('internal', `The worker that reads ${path} could not start (${err.message}).`, path))));
    child.onExit((code, signal) =>
      finish(() => reject(new UserError('internal', `Reading ${path} stopped (${signal ?? `code ${code}`}): ${stderr.trim().split('\n').pop() ?? 'no output'}. Check that it is an .onnx file made by torch.onnx.export or the studio.`, path))),
    );
    const request: ProbeRequest = { path, ...(options ? { options } : {}) };
    child.send(request);
  });
}
