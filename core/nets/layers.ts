/**
 * Layers shared by the generator and discriminator, StyleGAN2-style: equalised learning rate
 * (weights stored N(0, 1), scaled at run time by 1/√fan_in), bias + leakyRelu with gain √2,
 * modulated convolution with demodulation, per-pixel noise, minibatch standard deviation.
 * Channels-last throughout. Each layer holds its variables from a ParamStore; `apply` is pure.
 * Scalars are kept constants (core/backend/constants.ts) and squares are x·x (whose gradient needs
 * no scalar 2): on webgpu a JS number in an op is an upload on every call.
 * On webgpu each layer's epilogue (weight gain, bias, leaky ReLU, gain; for G's synthesis layers
 * also demodulation and noise) is one fused kernel (core/backend/kernels/fused-epilogue.ts):
 * every op saved there is a GPU dispatch saved. Elsewhere the same arithmetic runs as plain ops.
 */
import * as tf from '@tensorflow/tfjs';
import { constant } from '../backend/constants.js';
import { biasAct, fusedEpilogues, type Residual } from '../backend/kernels/fused-epilogue.js';
import { broadcastScaled } from '../backend/kernels/broadcast.js';
import { demod, modulate } from '../backend/kernels/fused-modconv.js';
import type { ParamStore } from './params.js';

export const SQRT2 = Math.SQRT2;
export const LRELU_ALPHA = 0.2;

/** Throws unless `t` has `expected` shape (null: any size on that axis). */
export function assertShape(t: tf.Tensor, expected: readonly (number | null)[], what: string): void {
  const ok = t.shape.length === expected.length && expected.every((e, i) => e === null || e === t.shape[i]);
  if (!ok) {
    const want = expected.map((e) => (e === null ? '?' : String(e))).join(', ');
    throw new Error(`${what}: expected shape [${want}], got [${t.shape.join(', ')}]`);
  }
}

/** leakyRelu(0.2) · gain (√2 keeps the activations' scale). */
export function lrelu(x: tf.Tensor, gain = SQRT2): tf.Tensor {
  if (fusedEpilogues()) return biasAct(x, undefined, { xGain: 1, biasGain: 1, alpha: LRELU_ALPHA, gain });
  const y = tf.leakyRelu(x, LRELU_ALPHA);
  return gain === 1 ? y : y.mul(constant(gain));
}

/** x / √(mean(x²) + ε) over the last axis. */
export function normalize2ndMoment(x: tf.Tensor2D, eps = 1e-8): tf.Tensor2D {
  return x.mul(x.mul(x).mean(1, true).add(constant(eps)).rsqrt());
}

export interface DenseOptions {
  /** Equalised-lr learning-rate multiplier (0.01 in the mapping network); default 1. */
  lrMul?: number;
  /** Initial bias value; default 0. */
  biasInit?: number;
  /** Add a bias; default true. */
  bias?: boolean;
  /** 'lrelu' (gain √2) or 'linear'; default 'linear'. */
  activation?: 'lrelu' | 'linear';
}

/** Fully connected layer with equalised learning rate. [N, in] → [N, out]. */
export class EqualDense {
  readonly weight: tf.Variable; // [in, out], stored N(0, 1/lrMul²)
  readonly bias: tf.Variable | undefined; // [out], stored biasInit/lrMul
  private readonly weightGain: number;
  private readonly lrMul: number;
  private readonly activation: 'lrelu' | 'linear';

  constructor(
    store: ParamStore,
    name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: DenseOptions = {},
  ) {
    this.lrMul = opts.lrMul ?? 1;
    this.weightGain = this.lrMul / Math.sqrt(inFeatures);
    this.activation = opts.activation ?? 'linear';
    this.weight = store.normal(`${name}.weight`, [inFeatures, outFeatures], 1 / this.lrMul);
    this.bias = opts.bias === false ? undefined : store.constant(`${name}.bias`, [outFeatures], (opts.biasInit ?? 0) / this.lrMul);
  }

  /** `gain`: a factor on the output (ModulatedConv's style gain), folded into the epilogue. */
  apply(x: tf.Tensor2D, gain = 1): tf.Tensor2D {
    assertShape(x, [null, this.inFeatures], 'EqualDense input');
    const leaky = this.activation === 'lrelu';
    if (fusedEpilogues()) {
      // x·(W·g) = (x·W)·g: the weight gain goes into the epilogue.
      const attrs = { xGain: this.weightGain, biasGain: this.lrMul, alpha: leaky ? LRELU_ALPHA : 1, gain: (leaky ? SQRT2 : 1) * gain };
      return biasAct(x.matMul(this.weight as tf.Tensor2D), this.bias, attrs) as tf.Tensor2D; // [N, out]
    }
    let y = x.matMul(this.weight.mul(constant(this.weightGain)) as tf.Tensor2D); // [N, out]
    if (this.bias !== undefined) y = y.add(this.lrMul === 1 ? this.bias : this.bias.mul(constant(this.lrMul)));
    if (leaky) y = lrelu(y) as tf.Tensor2D;
    return (gain === 1 ? y : y.mul(constant(gain))) as tf.Tensor2D;
  }
}

export interface ConvOptions {
  /** Add a bias; default true. */
  bias?: boolean;
  /** 'lrelu' (gain √2) or 'linear'; default 'lrelu'. */
  activation?: 'lrelu' | 'linear';
  /** Extra gain applied after the activation (√½ on residual branches); default 1. */
  gain?: number;
}

/** Convolution (stride 1, 'same') with equalised learning rate. [N, H, W, in] → [N, H, W, out]. */
export class EqualConv {
  readonly weight: tf.Variable; // [k, k, in, out]
  readonly bias: tf.Variable | undefined; // [out]
  private readonly weightGain: number;
  private readonly activation: 'lrelu' | 'linear';
  private readonly gain: number;

  constructor(
    store: ParamStore,
    name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    opts: ConvOptions = {},
  ) {
    this.weightGain = 1 / Math.sqrt(inChannels * kernel * kernel);
    this.activation = opts.activation ?? 'lrelu';
    this.gain = opts.gain ?? 1;
    this.weight = store.normal(`${name}.weight`, [kernel, kernel, inChannels, outChannels]);
    this.bias = opts.bias === false ? undefined : store.constant(`${name}.bias`, [outChannels], 0);
  }

  /** `residual`: added to the output (D's skip branch, fused into the epilogue on webgpu). */
  apply(x: tf.Tensor4D, residual?: Residual): tf.Tensor4D {
    assertShape(x, [null, null, null, this.inChannels], 'EqualConv input');
    if (fusedEpilogues()) {
      // conv(x, W·g) = g·conv(x, W): the weight gain goes into the epilogue.
      const leaky = this.activation === 'lrelu';
      const attrs = { xGain: this.weightGain, biasGain: 1, alpha: leaky ? LRELU_ALPHA : 1, gain: (leaky ? SQRT2 : 1) * this.gain };
      return biasAct(tf.conv2d(x, this.weight as tf.Tensor4D, 1, 'same'), this.bias, attrs, residual) as tf.Tensor4D; // [N, H, W, out]
    }
    const y = this.applyUnfused(x);
    return residual === undefined ? y : (y.add(residual.y.mul(constant(residual.gain))) as tf.Tensor4D);
  }

  /**
   * A linear layer without bias as (its conv, the gain to multiply it by): for the caller to fuse
   * that product into another layer's epilogue as its residual.
   */
  asResidual(x: tf.Tensor4D): Residual {
    if (this.activation !== 'linear' || this.bias !== undefined) throw new Error('EqualConv.asResidual: only for a linear layer without bias');
    assertShape(x, [null, null, null, this.inChannels], 'EqualConv input');
    return { y: tf.conv2d(x, this.weight as tf.Tensor4D, 1, 'same'), gain: this.weightGain * this.gain };
  }

  private applyUnfused(x: tf.Tensor4D): tf.Tensor4D {
    let y: tf.Tensor = tf.conv2d(x, this.weight.mul(constant(this.weightGain)) as tf.Tensor4D, 1, 'same'); // [N, H, W, out]
    if (this.bias !== undefined) y = y.add(this.bias);
    if (this.activation === 'lrelu') y = lrelu(y, SQRT2 * this.gain);
    else if (this.gain !== 1) y = y.mul(constant(this.gain));
    return y as tf.Tensor4D;
  }
}

/**
 * Modulated convolution (StyleGAN2). Styles s = affine(w) scale the input channels per sample;
 * demodulation then rescales each output channel by 1/√(Σ (W·s)²), computed as s² · ΣₖW² (a
 * matMul), and applied to the activations instead of the weights, so one ordinary conv serves the
 * whole batch (no grouped conv).  x [N, H, W, in], w [N, wDim] → [N, H, W, out].
 */
export class ModulatedConv {
  readonly affine: EqualDense; // w → styles, bias initialised to 1 (identity modulation)
  readonly weight: tf.Variable; // [k, k, in, out]
  private readonly styleGain: number;

  constructor(
    store: ParamStore,
    name: string,
    wDim: number,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly demodulate: boolean,
  ) {
    this.affine = new EqualDense(store, `${name}.affine`, wDim, inChannels, { biasInit: 1 });
    this.weight = store.normal(`${name}.weight`, [kernel, kernel, inChannels, outChannels]);
    // Without demodulation (toRGB) the weight needs the equalised-lr gain; with it, the gain cancels.
    this.styleGain = demodulate ? 1 : 1 / Math.sqrt(inChannels * kernel * kernel);
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D {
    const { y, dcoefs } = this.applyUndemodulated(x, w);
    return dcoefs === undefined ? y : (y.mul(dcoefs.reshape([x.shape[0], 1, 1, this.outChannels])) as tf.Tensor4D);
  }

  /**
   * The conv before demodulation, and the demodulation coefficients [N, out] to multiply it by
   * (none without demodulation), for a caller that fuses that product into its epilogue.
   */
  applyUndemodulated(x: tf.Tensor4D, w: tf.Tensor2D): { y: tf.Tensor4D; dcoefs?: tf.Tensor2D } {
    const [n] = x.shape;
    assertShape(x, [null, null, null, this.inChannels], 'ModulatedConv input');
    assertShape(w, [n, null], 'ModulatedConv w');
    const styles = this.affine.apply(w, this.styleGain); // [N, in]
    if (fusedEpilogues()) {
      const y = tf.conv2d(modulate(x, styles), this.weight as tf.Tensor4D, 1, 'same'); // [N, H, W, out]
      return this.demodulate ? { y, dcoefs: demod(styles, this.weight as tf.Tensor4D, 1e-8) } : { y };
    }
    const xs = x.mul(styles.reshape([n, 1, 1, this.inChannels])) as tf.Tensor4D; // [N, H, W, in]
    const y = tf.conv2d(xs, this.weight as tf.Tensor4D, 1, 'same'); // [N, H, W, out]
    if (!this.demodulate) return { y };
    const wsq = this.weight.mul(this.weight).sum([0, 1]) as tf.Tensor2D; // [in, out]
    const dcoefs = styles.mul(styles).matMul(wsq).add(constant(1e-8)).rsqrt() as tf.Tensor2D; // [N, out]
    return { y, dcoefs };
  }
}

/** How per-pixel noise is drawn: fresh each call, the layer's fixed buffer, or none. */
export type NoiseMode = 'random' | 'const' | 'none';

/** Per-pixel noise with a learned strength (initially 0). [N, H, W, C] → same. */
export class NoiseInput {
  readonly strength: tf.Variable; // []
  readonly fixed: tf.Variable; // [1, H, W, 1], not trained: for reproducible samples

  constructor(
    store: ParamStore,
    name: string,
    readonly resolution: number,
  ) {
    this.strength = store.constant(`${name}.noise_strength`, [], 0);
    this.fixed = store.normal(`${name}.noise_const`, [1, resolution, resolution, 1], 1, false);
  }

  /** `seed`: for 'random', draw reproducibly (the same seed gives the same noise). */
  apply(x: tf.Tensor4D, mode: NoiseMode, seed?: number): tf.Tensor4D {
    const noise = this.draw(x, mode, seed);
    return noise === undefined ? x : x.add(noise.mul(this.strength));
  }

  /** The noise `apply` adds before its strength, [N|1, H, W, 1] (none for 'none'). */
  draw(x: tf.Tensor4D, mode: NoiseMode, seed?: number): tf.Tensor4D | undefined {
    if (mode === 'none') return undefined;
    const [n, h, w] = x.shape;
    return mode === 'random' ? tf.randomNormal([n, h, w, 1], 0, 1, 'float32', seed) : (this.fixed as tf.Tensor4D);
  }
}

/**
 * Minibatch standard deviation (StyleGAN2): for groups of G samples, the stddev of each feature
 * over the group, averaged over pixels and channel groups, appended as `channels` feature maps.
 * Sample i is in group i mod (N/G), as in StyleGAN2-ADA. [N, H, W, C] → [N, H, W, C + channels].
 */
export function minibatchStd(x: tf.Tensor4D, groupSize: number, channels: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  // The largest group size ≤ groupSize that divides the batch.
  let g = Math.min(groupSize, n);
  while (n % g !== 0) g--;
  const m = n / g;
  const f = channels;
  if (c % f !== 0) throw new Error(`minibatchStd: ${f} channels do not divide ${c}`);
  const y = x.reshape([g, m, h * w, c]); // [G, M, HW, C]
  const centred = y.sub(y.mean(0, true));
  const std = centred.mul(centred).mean(0).add(constant(1e-8)).sqrt(); // [M, HW, C]
  // Channel k belongs to feature k div (C/F), as StyleGAN2 splits C into [F, C/F].
  const stat = std.mean(1).reshape([m, f, c / f]).mean(2); // [M, F]
  // Back to [N, H, W, F]: sample i = g·M + m gets row m.
  if (fusedEpilogues()) {
    // One Broadcast kernel (its gradient one Sum) instead of Tile (whose gradient is G slices and adds), Fill and Multiply.
    const maps = broadcastScaled(stat.reshape([1, m, 1, 1, f]), [g, m, h, w, f], 1).reshape([n, h, w, f]);
    return tf.concat([x, maps as tf.Tensor4D], 3);
  }
  const perSample = tf.tile(stat.reshape([1, m, f]), [g, 1, 1]).reshape([n, 1, 1, f]); // [N, 1, 1, F]
  const maps = perSample.mul(tf.fill([1, h, w, 1], 1)); // [N, H, W, F] (a fill on the device, not a host array)
  return tf.concat([x, maps as tf.Tensor4D], 3);
}
