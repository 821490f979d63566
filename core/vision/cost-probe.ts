/** Asks a short-lived worker what each judge costs per step on a backend (cost-worker.ts). */
import type { BackboneId } from '../api/vision.js';
import type { BackendChoiceName, VisionCostReport } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { askWorker } from '../jobs/ask-worker.js';

const WORKER = new URL('./cost-worker.ts', import.meta.url);
const TIMEOUT_MS = 300_000;

export interface VisionCostRequest {
  backend: BackendChoiceName;
  /** The run's batch and images (side, channels). */
  batch: number;
  resolution: number;
  channels: number;
  /** The judges' image size. */
  inputSize: number;
  /** [] for auto. */
  backbones: BackboneId[];
}

export function probeVisionCost(request: VisionCostRequest): Promise<VisionCostReport> {
  return askWorker(WORKER, {
    spawn: { args: [JSON.stringify(request)] },
    timeoutMs: TIMEOUT_MS,
    answer: (raw) => {
      const msg = raw as VisionCostReport | { error: string };
      return 'error' in msg ? new UserError('unavailable', `Measuring the judges failed: ${msg.error}`) : msg;
    },
    timedOut: () => new UserError('internal', 'Measuring the judges took more than 5 minutes and was stopped. Try a smaller judges’ image size.'),
    died: (why, lastLine) => new UserError('internal', `Measuring the judges failed (${why}): ${lastLine}.`),
  });
}
