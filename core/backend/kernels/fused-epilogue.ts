/**
 * Fused layer epilogues: what follows a conv or a matMul in core/nets/layers.ts, as one kernel
 * instead of five to eight element-wise ones (each a dispatch on webgpu):
 *
 *   AtelierBiasAct(x, bias, res)  y = act(x·xGain + bias[c]·biasGain) · gain + res·resGain
 *                                  (no bias, no residual: a kept scalar 0; D's residual blocks add their skip branch)
 *   AtelierModAct(x, d, n, s, b)  y = act(x·d[i, c] + n[i|0, h, w]·s + b[c]) · gain   (G's synthesis layer:
 *                                  demodulation coefficients d [N, C], noise n [N|1, H, W, 1], strength s [])
 *   AtelierModActNoise(x, d, s, b)  the same with fresh noise made in the kernel from a seed
 *                                  (gpu-noise.ts): no noise tensor to upload
 *   AtelierActGrad(dy, z, bias)   dx = dy · gain · (z·zGain + bias[c]·biasGain > 0 ? 1 : alpha)   (their gradient)
 *   AtelierLeadSum(x)             out = scale · Σ over the leading `lead` axes of x     (bias gradients)
 *
 * act(z) = z > 0 ? z : alpha·z (alpha 0.2: leaky ReLU; alpha 1: linear), gain > 0. xGain carries
 * the equalised-lr weight gain: conv(x, w·g) = g·conv(x, w), so no Multiply on the weight each
 * forward. ActGrad takes its mask's sign from BiasAct's inputs (x·xGain + bias·biasGain), not from
 * its saved output: TF.js records the copy of a saved output before the op that made it, so a
 * second differentiation would find no path from the weights through it (G's ModAct, never
 * differentiated twice, passes its output, zGain 1, no bias).
 *
 * Each kernel has a registered gradient made of these kernels and ordinary ops, so gradients of
 * gradients work (R1 differentiates D's backward pass): ActGrad is linear in dy, so its gradient
 * is ActGrad(ddy, z, bias) for dy and 0 for z and bias; LeadSum's is a broadcast.
 *
 * Kernels for webgpu (WGSL, through the backend's own program runner) and for cpu (plain loops, so
 * the fused nets can be tested against the unfused ops without a GPU). The layers use them only
 * where `fusedEpilogues()` says so: on webgpu, by default. `registerFusedEpilogues` also registers
 * the other fused kernels the layers use (fused-modconv.ts, fir-down.ts, broadcast.ts, gpu-noise.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { constant } from '../constants.js';
import { broadcastGrad, broadcastKernels } from './broadcast.js';
import { firDownGrad, firDownKernels } from './fir-down.js';
import { NOISE_WGSL, noiseAt, noiseGrad, noiseKernels, noiseTensor } from './gpu-noise.js';
import { modConvGrads, modConvKernels, modulate, spatialDot } from './fused-modconv.js';
import { webgpuLeadSum } from './webgpu-lead-sum.js';
import { runPerOutput } from './webgpu-program.js';

export const BIAS_ACT = 'AtelierBiasAct';
export const MOD_ACT = 'AtelierModAct';
export const MOD_ACT_NOISE = 'AtelierModActNoise';
export const ACT_GRAD = 'AtelierActGrad';
export const LEAD_SUM = 'AtelierLeadSum';

export interface BiasActAttrs {
  xGain: number;
  biasGain: number;
  alpha: number;
  gain: number;
}
export interface ActAttrs {
  alpha: number;
  gain: number;
}
/** ActGrad's: the mask's sign is that of z·zGain + bias·biasGain. */
export interface ActGradAttrs extends ActAttrs {
  zGain: number;
  biasGain: number;
}
interface LeadSumAttrs {
  lead: number;
  scale: number;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

// ---------------------------------------------------------------------------------------------
// The ops (what layers call).

/** A tensor of x's shape added after the activation, times `gain`. */
export interface Residual {
  y: tf.Tensor;
  gain: number;
}

/** act(x·xGain + bias·biasGain)·gain (+ residual.y·residual.gain), bias over the last axis; one kernel. */
export function biasAct(x: tf.Tensor, bias: tf.Tensor | undefined, attrs: BiasActAttrs, residual?: Residual): tf.Tensor {
  const inputs = { x, bias: bias ?? constant(0), res: residual?.y ?? constant(0) };
  return tf.engine().runKernel(BIAS_ACT, inputs, { ...attrs, resGain: residual?.gain ?? 0 } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** act(x·dcoef + noise·strength + bias)·gain for G's synthesis layers; one kernel. x [N, H, W, C]. */
export function modAct(x: tf.Tensor4D, dcoef: tf.Tensor2D, noise: tf.Tensor4D, strength: tf.Tensor, bias: tf.Tensor1D, attrs: ActAttrs): tf.Tensor4D {
  return tf.engine().runKernel(MOD_ACT, { x, dcoef, noise, strength, bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** modAct with noise N(0, 1) [N, H, W, 1] made in the kernel from `seed` (gpu-noise.ts); one kernel. */
export function modActNoise(x: tf.Tensor4D, dcoef: tf.Tensor2D, strength: tf.Tensor, bias: tf.Tensor1D, attrs: ActAttrs, seed: number): tf.Tensor4D {
  return tf.engine().runKernel(MOD_ACT_NOISE, { x, dcoef, strength, bias }, { ...attrs, seed } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** dy·gain·(z·zGain + bias·biasGain > 0 ? 1 : alpha), bias over the last axis; one kernel. */
export function actGrad(dy: tf.Tensor, z: tf.Tensor, bias: tf.Tensor | undefined, attrs: ActGradAttrs): tf.Tensor {
  return tf.engine().runKernel(ACT_GRAD, { dy, z, bias: bias ?? constant(0) }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** scale · the sum of x over its first `lead` axes; one kernel. */
export function leadSum(x: tf.Tensor, lead: number, scale = 1): tf.Tensor {
  return tf.engine().runKernel(LEAD_SUM, { x }, { lead, scale } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

// ---------------------------------------------------------------------------------------------
// Gradients.

/** dy·factor, by a kept constant (none when factor is 1). */
function scaled(dy: tf.Tensor, factor: number): tf.Tensor {
  return factor === 1 ? dy : dy.mul(constant(factor));
}

/** f's tensor, made on the first call and reused while alive (one dispatch for two inputs' gradients). */
function onceFn(f: () => tf.Tensor): () => tf.Tensor {
  let t: tf.Tensor | undefined;
  return () => {
    if (t === undefined || t.isDisposed) t = f();
    return t;
  };
}

const biasActGrad: tf.GradConfig = {
  kernelName: BIAS_ACT,
  inputsToSave: ['x', 'bias'],
  gradFunc: (dy, saved, attrs) => {
    const [x, bias] = saved as [tf.Tensor, tf.Tensor];
    const a = attrs as unknown as BiasActAttrs;
    const g = dy as tf.Tensor;
    const mask = { alpha: a.alpha, gain: a.gain * a.xGain, zGain: a.xGain, biasGain: a.biasGain };
    const dx = onceFn(() => (a.alpha === 1 ? scaled(g, a.gain * a.xGain) : actGrad(g, x, bias, mask)));
    const { resGain } = attrs as unknown as { resGain: number };
    return {
      x: dx,
      res: () => scaled(g, resGain),
      // ∂L/∂bias = Σ dz·biasGain = Σ dx·biasGain/xGain (a scalar bias: the kept 0 of "no bias").
      bias: () => (bias.rank === 0 ? dx().sum().mul(constant(a.biasGain / a.xGain)) : leadSum(dx(), x.rank - 1, a.biasGain / a.xGain)),
    };
  },
};

/**
 * ModAct's gradient (first order: it is G's). The mask comes from the saved output, which is
 * fine here (see the header) since G is never differentiated twice.
 */
function modActGradFunc(dy: tf.Tensor, x: tf.Tensor4D, dcoef: tf.Tensor2D, noise: () => tf.Tensor4D, strength: tf.Tensor, y: tf.Tensor4D, a: ActAttrs) {
  const dz = onceFn(() => actGrad(dy, y, undefined, { alpha: a.alpha, gain: a.gain, zGain: 1, biasGain: 0 })); // ∂L/∂z
  return {
    x: () => modulate(dz() as tf.Tensor4D, dcoef),
    dcoef: () => spatialDot(dz() as tf.Tensor4D, x),
    noise: () => {
      const perPixel = dz().sum(3, true).mul(strength); // [N, H, W, 1]
      return noise().shape[0] === x.shape[0] ? perPixel : perPixel.sum(0, true);
    },
    strength: () => dz().mul(noise()).sum().reshape(strength.shape),
    bias: () => leadSum(dz(), 3),
  };
}

const modActGrad: tf.GradConfig = {
  kernelName: MOD_ACT,
  inputsToSave: ['x', 'dcoef', 'noise', 'strength'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, dcoef, noise, strength, y] = saved as [tf.Tensor4D, tf.Tensor2D, tf.Tensor4D, tf.Tensor, tf.Tensor4D];
    return modActGradFunc(dy as tf.Tensor, x, dcoef, () => noise, strength, y, attrs as unknown as ActAttrs);
  },
};

const modActNoiseGrad: tf.GradConfig = {
  kernelName: MOD_ACT_NOISE,
  inputsToSave: ['x', 'dcoef', 'strength'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, dcoef, strength, y] = saved as [tf.Tensor4D, tf.Tensor2D, tf.Tensor, tf.Tensor4D];
    const a = attrs as unknown as ActAttrs & { seed: number };
    const [n, h, w] = x.shape;
    // The kernel's noise, made again only if the strength's gradient is wanted.
    return modActGradFunc(dy as tf.Tensor, x, dcoef, () => noiseTensor([n, h, w, 1], a.seed) as tf.Tensor4D, strength, y, a);
  },
};

const actGradGrad: tf.GradConfig = {
  kernelName: ACT_GRAD,
  inputsToSave: ['z', 'bias'],
  gradFunc: (ddx, saved, attrs) => {
    const [z, bias] = saved as [tf.Tensor, tf.Tensor];
    const a = attrs as unknown as ActGradAttrs;
    // Linear in dy; piecewise constant in z and bias (the kink has measure zero).
    return {
      dy: () => actGrad(ddx as tf.Tensor, z, bias, a),
      z: () => tf.zerosLike(z),
      bias: () => tf.zerosLike(bias),
    };
  },
};

const leadSumGrad: tf.GradConfig = {
  kernelName: LEAD_SUM,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { lead, scale } = attrs as unknown as LeadSumAttrs;
    const g = dy as tf.Tensor;
    const ones = new Array<number>(lead).fill(1);
    return { x: () => scaled(tf.broadcastTo(g.reshape([...ones, ...g.shape]), x.shape), scale) };
  },
};

// ---------------------------------------------------------------------------------------------
// webgpu kernels.

/** z > 0 ? z : alpha·z, times gain (WGSL). */
const ACT = 'select(z * uniforms.alpha, z, z > 0.0) * uniforms.gain';

function webgpuBiasAct(args: KernelArgs): tf.TensorInfo {
  const { x, bias, res } = args.inputs as { x: tf.TensorInfo; bias: tf.TensorInfo; res: tf.TensorInfo };
  const a = args.attrs as unknown as BiasActAttrs & { resGain: number };
  return runPerOutput(
    args.backend,
    'atelierBiasAct',
    { x, bias, res },
    x.shape,
    [
      ['i32', 'biasSize', tf.util.sizeFromShape(bias.shape)],
      ['i32', 'resSize', tf.util.sizeFromShape(res.shape)],
      ['f32', 'resGain', a.resGain],
      ['f32', 'xGain', a.xGain],
      ['f32', 'biasGain', a.biasGain],
      ['f32', 'alpha', a.alpha],
      ['f32', 'gain', a.gain],
    ],
    `let z = x[index] * uniforms.xGain + bias[index % uniforms.biasSize] * uniforms.biasGain;
        setOutputAtIndex(index, ${ACT} + res[index % uniforms.resSize] * uniforms.resGain);`,
  );
}

/** ModAct, or ModActNoise when there is no noise input (the noise made from attrs.seed). */
function webgpuModAct(args: KernelArgs): tf.TensorInfo {
  const { x, dcoef, noise, strength, bias } = args.inputs as Record<string, tf.TensorInfo>;
  const a = args.attrs as unknown as ActAttrs & { seed?: number };
  const [, h, w, c] = (x as tf.TensorInfo).shape as [number, number, number, number];
  const made = noise === undefined;
  return runPerOutput(
    args.backend,
    made ? 'atelierModActNoise' : 'atelierModAct',
    (made ? { x, dcoef, strength, bias } : { x, dcoef, noise, strength, bias }) as Record<string, tf.TensorInfo>,
    (x as tf.TensorInfo).shape,
    [
      ['i32', 'channels', c],
      ['i32', 'pixels', h * w],
      ['i32', 'noiseBatched', made || (noise as tf.TensorInfo).shape[0] !== 1 ? 1 : 0],
      ['i32', 'seed', a.seed ?? 0],
      ['f32', 'alpha', a.alpha],
      ['f32', 'gain', a.gain],
    ],
    `let ch = index % uniforms.channels;
        let p = index / uniforms.channels;
        let img = p / uniforms.pixels;
        let np = select(p - img * uniforms.pixels, p, uniforms.noiseBatched == 1);
        let nz = ${made ? 'atelierNoise(bitcast<u32>(uniforms.seed), u32(np))' : 'noise[np]'};
        let z = x[index] * dcoef[img * uniforms.channels + ch] + nz * strength[0] + bias[ch];
        setOutputAtIndex(index, ${ACT});`,
    made ? NOISE_WGSL : '',
  );
}

function webgpuActGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, z, bias } = args.inputs as { dy: tf.TensorInfo; z: tf.TensorInfo; bias: tf.TensorInfo };
  const a = args.attrs as unknown as ActGradAttrs;
  return runPerOutput(
    args.backend,
    'atelierActGrad',
    { dy, z, bias },
    dy.shape,
    [
      ['i32', 'biasSize', tf.util.sizeFromShape(bias.shape)],
      ['f32', 'zGain', a.zGain],
      ['f32', 'biasGain', a.biasGain],
      ['f32', 'alpha', a.alpha],
      ['f32', 'gain', a.gain],
    ],
    `let s = z[index] * uniforms.zGain + bias[index % uniforms.biasSize] * uniforms.biasGain;
        setOutputAtIndex(index, dy[index] * uniforms.gain * select(uniforms.alpha, 1.0, s > 0.0));`,
  );
}

function webgpuLeadSumKernel(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { lead, scale } = args.attrs as unknown as LeadSumAttrs;
  return webgpuLeadSum(args.backend, x, lead, scale, false);
}

// ---------------------------------------------------------------------------------------------
// cpu kernels (plain loops, float32 like the webgpu ones).

interface CpuBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

const act = (z: number, alpha: number, gain: number): number => (z > 0 ? z : alpha * z) * gain;

function cpuBiasAct(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as unknown as CpuBackendLike;
  const { x, bias, res } = args.inputs as { x: tf.TensorInfo; bias: tf.TensorInfo; res: tf.TensorInfo };
  const a = args.attrs as unknown as BiasActAttrs & { resGain: number };
  const xv = b.readSync(x.dataId);
  const bv = b.readSync(bias.dataId);
  const rv = b.readSync(res.dataId);
  const out = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const z = Math.fround((xv[i] as number) * a.xGain + (bv[i % bv.length] as number) * a.biasGain);
    out[i] = Math.fround(act(z, a.alpha, a.gain)) + (rv[i % rv.length] as number) * a.resGain;
  }
  return b.makeTensorInfo(x.shape, 'float32', out);
}

function cpuModAct(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as unknown as CpuBackendLike;
  const { x, dcoef, noise, strength, bias } = args.inputs as Record<string, tf.TensorInfo>;
  const a = args.attrs as unknown as ActAttrs & { seed?: number };
  const [n, h, w, c] = (x as tf.TensorInfo).shape as [number, number, number, number];
  const [xv, dv, sv, bv] = [x, dcoef, strength, bias].map((t) => b.readSync((t as tf.TensorInfo).dataId)) as ArrayLike<number>[];
  const nv = noise === undefined ? Float32Array.from({ length: n * h * w }, (_, i) => noiseAt(a.seed ?? 0, i)) : b.readSync(noise.dataId);
  const batched = noise === undefined || noise.shape[0] !== 1;
  const pixels = h * w;
  const s = (sv as ArrayLike<number>)[0] as number;
  const out = new Float32Array((xv as ArrayLike<number>).length);
  for (let i = 0; i < out.length; i++) {
    const ch = i % c;
    const p = Math.floor(i / c);
    const img = Math.floor(p / pixels);
    const np = batched ? p : p % pixels;
    const z = Math.fround(
      ((xv as ArrayLike<number>)[i] as number) * ((dv as ArrayLike<number>)[img * c + ch] as number) +
        ((nv as ArrayLike<number>)[np] as number) * s +
        ((bv as ArrayLike<number>)[ch] as number),
    );
    out[i] = act(z, a.alpha, a.gain);
  }
  return b.makeTensorInfo((x as tf.TensorInfo).shape, 'float32', out);
}

function cpuActGrad(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as unknown as CpuBackendLike;
  const { dy, z, bias } = args.inputs as { dy: tf.TensorInfo; z: tf.TensorInfo; bias: tf.TensorInfo };
  const a = args.attrs as unknown as ActGradAttrs;
  const dv = b.readSync(dy.dataId);
  const zv = b.readSync(z.dataId);
  const bv = b.readSync(bias.dataId);
  const out = new Float32Array(dv.length);
  for (let i = 0; i < dv.length; i++) {
    const s = Math.fround((zv[i] as number) * a.zGain + (bv[i % bv.length] as number) * a.biasGain);
    out[i] = (dv[i] as number) * a.gain * (s > 0 ? 1 : a.alpha);
  }
  return b.makeTensorInfo(dy.shape, 'float32', out);
}

function cpuLeadSum(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as unknown as CpuBackendLike;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { lead, scale } = args.attrs as unknown as LeadSumAttrs;
  const xv = b.readSync(x.dataId);
  const rest = x.shape.slice(lead);
  const m = tf.util.sizeFromShape(rest);
  const acc = new Float64Array(m);
  for (let i = 0; i < xv.length; i++) acc[i % m] = (acc[i % m] as number) + (xv[i] as number);
  return b.makeTensorInfo(rest, 'float32', Float32Array.from(acc, (v) => v * scale));
}

// ---------------------------------------------------------------------------------------------
// Registration and the switch the layers read.

const KERNELS: Record<'webgpu' | 'cpu', Array<[string, (args: KernelArgs) => tf.TensorInfo]>> = {
  webgpu: [
    [BIAS_ACT, webgpuBiasAct],
    [MOD_ACT, webgpuModAct],
    [MOD_ACT_NOISE, webgpuModAct],
    [ACT_GRAD, webgpuActGrad],
    [LEAD_SUM, webgpuLeadSumKernel],
  ],
  cpu: [
    [BIAS_ACT, cpuBiasAct],
    [MOD_ACT, cpuModAct],
    [MOD_ACT_NOISE, cpuModAct],
    [ACT_GRAD, cpuActGrad],
    [LEAD_SUM, cpuLeadSum],
  ],
};

/** Registers the fused kernels for webgpu or cpu (others: nothing) and their gradients; idempotent. True when something was added. */
export function registerFusedEpilogues(backendName: string): boolean {
  let added = false;
  for (const g of [biasActGrad, modActGrad, modActNoiseGrad, actGradGrad, leadSumGrad, ...modConvGrads, firDownGrad, broadcastGrad, noiseGrad]) {
    if (tf.getGradient(g.kernelName) === undefined) tf.registerGradient(g);
  }
  if (backendName !== 'webgpu' && backendName !== 'cpu') return false;
  for (const [kernelName, kernelFunc] of [...KERNELS[backendName], ...modConvKernels[backendName], ...firDownKernels[backendName], ...broadcastKernels[backendName], ...noiseKernels[backendName]]) {
    if (tf.getKernel(kernelName, backendName) !== undefined) continue;
    tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    added = true;
  }
  return added;
}

let forced: boolean | undefined;

/**
 * Whether layers use the fused kernels: on webgpu (where each op saved is a dispatch saved), not
 * on cpu or wasm (their unfused ops are as fast). `force` overrides it (tests: the fused path on
 * cpu); undefined puts the default back.
 */
export function fusedEpilogues(): boolean {
  const backend = tf.getBackend();
  const on = forced ?? backend === 'webgpu';
  return on && tf.getKernel(BIAS_ACT, backend) !== undefined;
}

export function forceFusedEpilogues(on: boolean | undefined): void {
  forced = on;
}
