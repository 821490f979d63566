/**
 * The [1, 3, 3, 1]/8 2× downsampling of core/nets/resample.ts (edges replicated) as one kernel,
 * `AtelierFirDown2x`, for webgpu: there it is built from slices, concats, adds and multiplies,
 * about 25 dispatches a call (it is the gradient of G's bilinear RGB upsampling).
 *
 *   out[n, i, j, c] = scale · Σ_{a,b ∈ 0..3} k[a]·k[b]·x[n, clamp(2i−1+a), clamp(2j−1+b), c],  k = [1, 3, 3, 1]/8
 *
 * Its gradient is its adjoint, bilinear 2× upsampling (half-pixel centres, edges clamped) / 4,
 * whose own gradient is this kernel again: both directions differentiate.
 * webgpu kernel and a cpu one (plain loops, for tests without a GPU).
 */
import * as tf from '@tensorflow/tfjs';
import { constant } from '../constants.js';
import { runPerOutput } from './webgpu-program.js';

export const FIR_DOWN = 'AtelierFirDown2x';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** scale · [1, 3, 3, 1]/8 downsampling of x [N, H, W, C] (H, W even) → [N, H/2, W/2, C]; one kernel. */
export function firDown2xKernel(x: tf.Tensor4D, scale = 1): tf.Tensor4D {
  return tf.engine().runKernel(FIR_DOWN, { x }, { scale } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** The adjoint of firDown2xKernel (scale 1): bilinear 2× upsampling / 4, differentiable again. */
const firDownAdjoint = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const dy = args[0] as tf.Tensor4D;
  const [, h, w] = dy.shape;
  return {
    value: tf.image.resizeBilinear(dy, [h * 2, w * 2], false, true).mul(constant(1 / 4)),
    gradFunc: (ddx: tf.Tensor) => firDown2xKernel(ddx as tf.Tensor4D),
  };
});

export const firDownGrad: tf.GradConfig = {
  kernelName: FIR_DOWN,
  gradFunc: (dy, _saved, attrs) => {
    const { scale } = attrs as unknown as { scale: number };
    const up = () => firDownAdjoint(dy as tf.Tensor4D) as tf.Tensor;
    return { x: () => (scale === 1 ? up() : up().mul(constant(scale))) };
  },
};

function shapes(x: tf.TensorInfo): [number, number, number, number] {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`${FIR_DOWN}: odd size ${h}×${w}`);
  return [n, h, w, c];
}

function webgpuFirDown(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { scale } = args.attrs as unknown as { scale: number };
  const [n, h, w, c] = shapes(x);
  return runPerOutput(args.backend, 'atelierFirDown2x', { x }, [n, h / 2, w / 2, c], [
    ['i32', 'inH', h],
    ['i32', 'inW', w],
    ['i32', 'channels', c],
    ['f32', 'scale', scale],
  ], `var k = array<f32, 4>(0.125, 0.375, 0.375, 0.125);
        let ch = index % uniforms.channels;
        let t = index / uniforms.channels;
        let j = t % (uniforms.inW / 2);
        let t2 = t / (uniforms.inW / 2);
        let i = t2 % (uniforms.inH / 2);
        let img = t2 / (uniforms.inH / 2);
        var acc = 0.0;
        for (var a = 0; a < 4; a = a + 1) {
          let r = clamp(2 * i - 1 + a, 0, uniforms.inH - 1);
          var row = 0.0;
          for (var b = 0; b < 4; b = b + 1) {
            let q = clamp(2 * j - 1 + b, 0, uniforms.inW - 1);
            row = row + k[b] * x[((img * uniforms.inH + r) * uniforms.inW + q) * uniforms.channels + ch];
          }
          acc = acc + k[a] * row;
        }
        setOutputAtIndex(index, acc * uniforms.scale);`);
}

function cpuFirDown(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as unknown as { readSync(id: object): ArrayLike<number>; makeTensorInfo(s: number[], d: tf.DataType, v: Float32Array): tf.TensorInfo };
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { scale } = args.attrs as unknown as { scale: number };
  const [n, h, w, c] = shapes(x);
  const xv = b.readSync(x.dataId);
  const k = [0.125, 0.375, 0.375, 0.125];
  const out = new Float32Array((n * h * w * c) / 4);
  let o = 0;
  for (let img = 0; img < n; img++) {
    for (let i = 0; i < h / 2; i++) {
      for (let j = 0; j < w / 2; j++) {
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let a = 0; a < 4; a++) {
            const r = Math.min(Math.max(2 * i - 1 + a, 0), h - 1);
            for (let bb = 0; bb < 4; bb++) {
              const q = Math.min(Math.max(2 * j - 1 + bb, 0), w - 1);
              acc += (k[a] as number) * (k[bb] as number) * (xv[((img * h + r) * w + q) * c + ch] as number);
            }
          }
          out[o++] = acc * scale;
        }
      }
    }
  }
  return b.makeTensorInfo([n, h / 2, w / 2, c], 'float32', out);
}

export const firDownKernels: Record<'webgpu' | 'cpu', Array<[string, (args: KernelArgs) => tf.TensorInfo]>> = {
  webgpu: [[FIR_DOWN, webgpuFirDown]],
  cpu: [[FIR_DOWN, cpuFirDown]],
};
