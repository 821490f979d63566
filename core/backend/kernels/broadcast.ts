/**
 * `AtelierBroadcast`: scale · x broadcast to a larger shape (x of the same rank, 1 on the
 * broadcast axes), one kernel. On webgpu Sum's and Mean's gradients (core/backend/kernels/
 * reduce-grads.ts) use it instead of dy · onesLike(x) (÷ n): two or three dispatches become one.
 * Not TF.js's broadcastTo: that is a Tile, whose gradient adds up one slice per repeat.
 * Its gradient is the sum over the broadcast axes, times scale, whose gradient is this again.
 * webgpu kernel (the backend's own broadcasting read) and a cpu one (for tests).
 */
import * as tf from '@tensorflow/tfjs';
import { constant } from '../constants.js';
import { runPerOutput } from './webgpu-program.js';

export const BROADCAST = 'AtelierBroadcast';

type KernelArgs = Parameters<tf.KernelFunc>[0];
interface BroadcastAttrs {
  shape: number[];
  scale: number;
}

/** scale · x broadcast to `shape` (x: same rank, each axis 1 or the full size); one kernel. */
export function broadcastScaled(x: tf.Tensor, shape: number[], scale: number): tf.Tensor {
  return tf.engine().runKernel(BROADCAST, { x }, { shape, scale } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export const broadcastGrad: tf.GradConfig = {
  kernelName: BROADCAST,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { shape, scale } = attrs as unknown as BroadcastAttrs;
    const axes = shape.flatMap((d, i) => (d !== x.shape[i] ? [i] : []));
    return {
      x: () => {
        const s = axes.length === 0 ? (dy as tf.Tensor) : (dy as tf.Tensor).sum(axes, true);
        return scale === 1 ? s : s.mul(constant(scale));
      },
    };
  },
};

function check(x: tf.TensorInfo, shape: number[]): void {
  const ok = x.shape.length === shape.length && x.shape.every((d, i) => d === 1 || d === shape[i]);
  if (!ok) throw new Error(`${BROADCAST}: cannot broadcast [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
}

function webgpuBroadcast(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { shape, scale } = args.attrs as unknown as BroadcastAttrs;
  check(x, shape);
  // The broadcast axes are compiled into the backend's getXByOutputIndex: part of the key.
  const pattern = x.shape.map((d, i) => (d === shape[i] ? 'k' : 'b')).join('');
  return runPerOutput(args.backend, `atelierBroadcast_${pattern}`, { x }, shape, [['f32', 'scale', scale]], 'setOutputAtIndex(index, getXByOutputIndex(index) * uniforms.scale);');
}

function cpuBroadcast(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as unknown as { readSync(id: object): ArrayLike<number>; makeTensorInfo(s: number[], d: tf.DataType, v: Float32Array): tf.TensorInfo };
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { shape, scale } = args.attrs as unknown as BroadcastAttrs;
  check(x, shape);
  const xv = b.readSync(x.dataId);
  const outStrides = tf.util.computeStrides(shape);
  const inStrides = tf.util.computeStrides(x.shape);
  const out = new Float32Array(tf.util.sizeFromShape(shape));
  for (let i = 0; i < out.length; i++) {
    let rem = i;
    let src = 0;
    for (let d = 0; d < shape.length; d++) {
      const stride = d < outStrides.length ? (outStrides[d] as number) : 1;
      const coord = Math.floor(rem / stride);
      rem -= coord * stride;
      if (x.shape[d] !== 1) src += coord * (d < inStrides.length ? (inStrides[d] as number) : 1);
    }
    out[i] = (xv[src] as number) * scale;
  }
  return b.makeTensorInfo(shape, 'float32', out);
}

export const broadcastKernels: Record<'webgpu' | 'cpu', Array<[string, (args: KernelArgs) => tf.TensorInfo]>> = {
  webgpu: [[BROADCAST, webgpuBroadcast]],
  cpu: [[BROADCAST, cpuBroadcast]],
};
