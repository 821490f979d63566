/**
 * G_ema: an exponential moving average of G's weights (Karras et al. 2018), what previews,
 * samples and exports use. As StyleGAN2-ADA's training loop: the half-life is `emaKimg` thousand
 * images, ramped up to `rampup` × the images seen so far early on, so the average forgets the
 * random start quickly:
 *
 *   ema_nimg = min(emaKimg·1000, nimg·rampup)        β = 0.5^(batch / max(ema_nimg, 1e-8))
 *   p_ema ← p + (p_ema − p)·β         buffers (tracked w, fixed noise) copied
 */
import * as tf from '@tensorflow/tfjs';
import type { Generator } from '../nets/generator.js';

/** β for one step, from the batch, the half-life (kimg), the ramp-up (null: off) and the images seen before this step. */
export function emaBeta(batch: number, emaKimg: number, rampup: number | null, nimg: number): number {
  let emaNimg = emaKimg * 1000;
  if (rampup !== null) emaNimg = Math.min(emaNimg, nimg * rampup);
  return 0.5 ** (batch / Math.max(emaNimg, 1e-8));
}

/** Pairs G's and G_ema's parameters by name (their ParamStores have the same names in the same order). */
function pairs(ema: Generator, G: Generator): Array<{ src: tf.Variable; dst: tf.Variable; trainable: boolean }> {
  const from = G.params.all();
  const to = ema.params.all();
  if (from.length !== to.length) throw new Error(`G_ema has ${to.length} parameters, G ${from.length}: not the same network`);
  return from.map((f, i) => {
    const t = to[i]!;
    if (t.name !== f.name) throw new Error(`G_ema parameter ${i} is ${t.name}, G's is ${f.name}`);
    return { src: f.variable, dst: t.variable, trainable: f.trainable };
  });
}

/** G_ema ← lerp(G, G_ema, β) for weights; buffers copied. */
export function updateEma(ema: Generator, G: Generator, beta: number): void {
  tf.tidy(() => {
    for (const { src, dst, trainable } of pairs(ema, G)) {
      dst.assign(trainable && beta !== 0 ? src.add(dst.sub(src).mul(beta)) : src.clone());
    }
  });
}

/** G_ema ← G exactly (at the start of a run). */
export function copyWeights(ema: Generator, G: Generator): void {
  updateEma(ema, G, 0);
}
