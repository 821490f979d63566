/**
 * Standard normal noise made where it is used, from a seed and the element's index (a PCG hash,
 * then Box–Muller), so G's per-pixel noise needs no host-made tensor: on webgpu each
 * tf.randomNormal is drawn on the CPU and uploaded, 7 uploads per G forward at 32². The same
 * function in WGSL (for kernels that read the noise) and in JS (the cpu kernels); `AtelierNoise`
 * writes it out as a tensor, for the gradient that needs it. Not TF.js's generator: the values
 * differ from tf.randomNormal's for a seed (training's noise is drawn unseeded anyway).
 */
import * as tf from '@tensorflow/tfjs';
import { runPerOutput } from './webgpu-program.js';

export const NOISE = 'AtelierNoise';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** WGSL: `atelierNoise(seed, i)`, N(0, 1). */
export const NOISE_WGSL = `
fn atelierPcg(v : u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
fn atelierNoise(seed : u32, i : u32) -> f32 {
  let k = atelierPcg(seed);
  let a = atelierPcg(i * 2u + k);
  let b = atelierPcg(i * 2u + 1u + k);
  let u1 = (f32(a >> 8u) + 1.0) / 16777216.0;
  let u2 = f32(b >> 8u) / 16777216.0;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
`;

function pcg(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** The same noise in JS. */
export function noiseAt(seed: number, i: number): number {
  const k = pcg(seed);
  const a = pcg((Math.imul(i, 2) + k) >>> 0);
  const b = pcg((Math.imul(i, 2) + 1 + k) >>> 0);
  const u1 = ((a >>> 8) + 1) / 16777216;
  const u2 = (b >>> 8) / 16777216;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A fresh seed for one draw. */
export function freshNoiseSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/** The noise of `seed` as a tensor of `shape`; one kernel. */
export function noiseTensor(shape: number[], seed: number): tf.Tensor {
  return tf.engine().runKernel(NOISE, {}, { shape, seed } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export const noiseGrad: tf.GradConfig = { kernelName: NOISE, gradFunc: () => ({}) };

function webgpuNoise(args: KernelArgs): tf.TensorInfo {
  const { shape, seed } = args.attrs as unknown as { shape: number[]; seed: number };
  return runPerOutput(args.backend, 'atelierNoise', {}, shape, [['i32', 'seed', seed]], 'setOutputAtIndex(index, atelierNoise(bitcast<u32>(uniforms.seed), u32(index)));', NOISE_WGSL);
}

function cpuNoise(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as unknown as { makeTensorInfo(s: number[], d: tf.DataType, v: Float32Array): tf.TensorInfo };
  const { shape, seed } = args.attrs as unknown as { shape: number[]; seed: number };
  return b.makeTensorInfo(shape, 'float32', Float32Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => noiseAt(seed, i)));
}

export const noiseKernels: Record<'webgpu' | 'cpu', Array<[string, (args: KernelArgs) => tf.TensorInfo]>> = {
  webgpu: [[NOISE, webgpuNoise]],
  cpu: [[NOISE, cpuNoise]],
};
