/**
 * What a judge costs per training step on the current backend, to show before a run starts: one
 * forward and backward pass (to the image) through its backbone and head at the run's batch and
 * judge input, the median of 3 timed passes after a warm-up pass. A G step pays this once per
 * judge; a D step pays about the forward alone, twice (reals and fakes).
 */
import * as tf from '@tensorflow/tfjs';
import type { VisionJudge } from './judge.js';

export async function judgeSecondsPerStep(judge: VisionJudge, batch: number, resolution: number, channels = 3): Promise<number> {
  const x = tf.randomUniform([batch, resolution, resolution, channels], -1, 1, 'float32', 7) as tf.Tensor4D;
  const times: number[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const g = tf.tidy(() => tf.grad((xx: tf.Tensor) => judge.head.apply(judge.features(xx as tf.Tensor4D)).sum())(x));
      await g.data();
      g.dispose();
      if (i > 0) times.push((performance.now() - t0) / 1000);
    }
  } finally {
    x.dispose();
  }
  return times.sort((a, b) => a - b)[1]!;
}
