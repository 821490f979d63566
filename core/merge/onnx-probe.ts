/**
 * Reads an ONNX generator for the Merge view before any merge (`merge.probeSource`): a
 * short-lived worker (onnx-probe-worker.ts) loads it in ONNX Runtime, infers what it can from the
 * graph, makes a few images and exits, so the service's loop never waits on a graph.
 */
import type { OnnxProbeInfo } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { askWorker } from '../jobs/ask-worker.js';
import type { ProbeAnswer, ProbeRequest } from './onnx-probe-worker.js';
import type { OnnxSourceOptions } from './onnx-source.js';

const WORKER = new URL('./onnx-probe-worker.ts', import.meta.url);
/** A generator too slow to make 8 images in this long is not worth merging here. */
const TIMEOUT_MS = 120_000;

export function probeOnnxSource(path: string, options?: OnnxSourceOptions): Promise<OnnxProbeInfo> {
  const request: ProbeRequest = { path, ...(options ? { options } : {}) };
  return askWorker(WORKER, {
    request,
    timeoutMs: TIMEOUT_MS,
    answer: (raw) => {
      const answer = raw as ProbeAnswer;
      return answer.ok ? answer.value : new UserError(answer.error.code, answer.error.message, answer.error.subject);
    },
    timedOut: () => new UserError('unavailable', `Reading ${path} took more than 2 minutes and was stopped: this generator is too slow to merge here.`, path),
    died: (why, lastLine) =>
      why.startsWith('could not start')
        ? new UserError('internal', `The worker that reads ${path} ${why}.`, path)
        : new UserError('internal', `Reading ${path} stopped (${why}): ${lastLine}. Check that it is an .onnx file made by torch.onnx.export or the studio.`, path),
  });
}
