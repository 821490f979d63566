/** Asks a short-lived worker what each judge costs per step on a backend (cost-worker.ts). */
import type { BackboneId } from '../api/vision.js';
import type { BackendChoiceName, VisionCostReport } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { spawnWorker } from '../jobs/spawn.js';

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
  return new Promise((resolve, reject) => {
    const child = spawnWorker(WORKER, { stderr: 'pipe', args: [JSON.stringify(request)] });
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
      finish(() => reject(new UserError('internal', 'Measuring the judges took more than 5 minutes and was stopped. Try a smaller judges’ image size.')));
    }, TIMEOUT_MS);
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.onMessage((raw) => {
      const msg = raw as VisionCostReport | { error: string };
      if ('error' in msg) finish(() => reject(new UserError('unavailable', `Measuring the judges failed: ${msg.error}`)));
      else finish(() => resolve(msg));
    });
    child.onExit((code, signal) =>
      finish(() => reject(new UserError('internal', `Measuring the judges failed (${signal ?? `code ${code}`}): ${stderr.trim().split('\n').pop() ?? 'no output'}.`))),
    );
  });
}
