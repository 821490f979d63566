/**
 * Memory: how big a batch the backend holds, and what to say when it does not.
 *
 * The peak of a training step grows about linearly with the batch, so two probe steps (gradients of
 * Gmain, Dmain and Dreg at batch 2 and 4, nothing applied) measured with tf.profile give
 * fixed + perImage·batch, plus a 10% margin; extra discriminators (vision-aided judges) add their own
 * probed peaks. Budgets: wasm's heap is capped near 4 GB (allocations
 * past ~3.6 GB were seen to fail, and a failed one leaves the module unusable); native TensorFlow
 * on the CPU gets half the machine's memory; GPU backends do not say (nor is the slow cpu backend
 * probed), so there the batch is only checked by running.
 */
import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../backend/select.js';
import { oneHotLabels } from '../nets/generator.js';
import type { LossKind } from './config.js';
import { dMainLoss, gMainLoss, r1Terms } from './losses.js';
import type { Nets } from './loop.js';
import { Rng, withSeededMathRandom } from '../random/rng.js';

const GB = 2 ** 30;
const MARGIN = 1.1;

/** Bytes of tensors a training step may use on `backend`, or null where it cannot be known. */
export function memoryBudget(backend: BackendName): { bytes: number; why: string } | null {
  switch (backend) {
    case 'wasm':
      return { bytes: 3.0 * GB, why: 'the wasm backend’s memory is capped near 4 GB' };
    case 'tensorflow':
      return { bytes: totalmem() * 0.5, why: `half of this machine’s ${(totalmem() / GB).toFixed(0)} GB` };
    default:
      // GPUs do not say; the plain-JS cpu backend is too slow for probe steps to be worth it.
      return null;
  }
}

/** Peak bytes of live tensors during one step's gradients (Gmain, Dmain, Dreg) at `batch`; changes no weights and no run state. */
export async function probeStepPeak(nets: Nets, batch: number, loss: LossKind): Promise<number> {
  const { G, D } = nets;
  const { resolution: r, imageChannels: ch, zDim, numClasses: k } = G.config;
  const rng = Rng.fromSeed(0x6d656d, 7); // its own stream: the run's is not touched
  const gVars = G.trainableVariables();
  const dVars = D.trainableVariables();
  const info = await tf.profile(() =>
    withSeededMathRandom(rng, () =>
      tf.tidy(() => {
        const c = k > 0 ? oneHotLabels(Array.from({ length: batch }, (_, i) => i % k), k) : undefined;
        const z = () => tf.randomNormal([batch, zDim], 0, 1, 'float32', rng.tfSeed()) as tf.Tensor2D; // [N, zDim]
        const reals = tf.randomUniform([batch, r, r, ch], -1, 1, 'float32', rng.tfSeed()) as tf.Tensor4D; // [N, R, R, C]
        // Each phase in its own tidy: its gradients are gone before the next starts, as in training.
        tf.tidy(() => void tf.variableGrads(() => gMainLoss(loss, D.apply(G.generate(z(), c), c)), gVars));
        tf.tidy(() => {
          const fakes = G.generate(z(), c);
          tf.variableGrads(() => dMainLoss(loss, D.apply(reals, c), D.apply(fakes, c)).loss, dVars);
        });
        tf.tidy(() => void tf.variableGrads(() => r1Terms((x) => D.apply(x, c), reals).penalty.mean(), dVars));
        return tf.scalar(0);
      }),
    ),
  );
  (info.result as tf.Tensor).dispose();
  return info.peakBytes;
}

export interface BatchFit {
  /** The largest power of two ≤ the wanted batch whose predicted peak fits the budget (0: none). */
  batch: number;
  /** Predicted peak bytes at the wanted batch (margin included). */
  predicted: number;
  fixedBytes: number;
  perImageBytes: number;
}

/**
 * Fits a line through the peaks at batch 2 and 4 and picks the batch. Call before the optimisers
 * exist: their moments (2× the trainable weights) and Adam's temporaries (about 1× more) are added.
 */
export async function fitBatch(nets: Nets, want: number, budget: number, loss: LossKind, extraPeak?: (batch: number) => Promise<number>): Promise<BatchFit> {
  // Batch 2 and 4, not 1 and 2: measured at 32², the slope from 1 to 2 came out 11% low.
  // `extraPeak`: what extra discriminators (vision-aided judges) add at a batch, on top of the nets'.
  const peak = async (batch: number): Promise<number> => (await probeStepPeak(nets, batch, loss)) + (extraPeak !== undefined ? await extraPeak(batch) : 0);
  const p2 = await peak(2);
  const p4 = await peak(4);
  const trainableBytes = 4 * (nets.G.params.countTrainable() + nets.D.params.countTrainable());
  const perImageBytes = Math.max((p4 - p2) / 2, 1);
  const fixedBytes = Math.max(p2 - 2 * perImageBytes, 0) + 3 * trainableBytes;
  const line = { fixedBytes, perImageBytes };
  let batch = 2 ** Math.floor(Math.log2(want));
  while (batch >= 1 && predictedPeak(line, batch) > budget) batch /= 2;
  return { batch: batch >= 1 ? batch : 0, predicted: predictedPeak(line, want), fixedBytes, perImageBytes };
}

/**
 * The peak a step at `batch` is expected to reach. A real step at 32², batch 32 on wasm peaked at
 * 2182 MB, 6% above the line's 2055 MB: 10% is kept in hand.
 */
export function predictedPeak(line: Pick<BatchFit, 'fixedBytes' | 'perImageBytes'>, batch: number): number {
  return MARGIN * (line.fixedBytes + batch * line.perImageBytes);
}

/** True for the errors backends give when memory runs out. */
export function isOutOfMemory(err: unknown): boolean {
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? String(err)}`;
  return /out of memory|memory access out of bounds|cannot enlarge memory|maximum memory size|array buffer allocation failed|allocation failed|failed to allocate|OOM when allocating|ResourceExhausted|Aborted\(OOM\)/i.test(text);
}

/** What to tell the user when a step ran out of memory at `batch`. */
export function outOfMemoryMessage(backend: string, batch: number, fit: BatchFit | null): string {
  const suggest = fit !== null && fit.batch >= 1 && fit.batch < batch ? fit.batch : Math.max(1, Math.floor(batch / 2));
  const cap = backend === 'wasm' ? ' (its memory is capped near 4 GB)' : '';
  return (
    `Training ran out of memory on the ${backend} backend${cap} at batch ${batch}. Everything saved before is kept. ` +
    `Start a new run with batch ${suggest} or smaller (advanced: transfer from this run to keep its progress), or use a backend with more memory.`
  );
}

/** What to tell the user when the evaluation at a checkpoint ran out of memory (InceptionV3 at 299², not the training batch). */
export function evaluationOutOfMemoryMessage(backend: string, kimg: number): string {
  const at = `${Number(kimg.toFixed(3))} kimg`;
  const cap = backend === 'wasm' ? ' (its memory is capped near 4 GB)' : '';
  return (
    `The evaluation at ${at} ran out of memory on the ${backend} backend${cap}: the InceptionV3 that computes the metrics looks at 299×299 images, whatever the training batch. ` +
    `The checkpoint at ${at} is kept. Start a new run with evaluations off or smaller evaluation sizes (advanced settings; transfer from this run to keep its progress).`
  );
}
