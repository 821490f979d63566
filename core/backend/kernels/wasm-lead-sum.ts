/**
 * `Sum` over leading axes for the wasm backend, by one JS loop over the heap. TF.js 4.22's wasm Sum
 * reduces only the innermost axis, so a sum over [0, 1, 2] of [N, H, W, C] (every bias gradient,
 * the broadcast gradients of Add and Multiply, ΣₖW² of the demodulation) first transposes the
 * whole tensor: on [8, 64, 64, 32], 2.5 ms, where the loop here (four rows a pass) takes 0.9 ms.
 *
 * The tensor is read as [R, M]; out[m] = Σ_r x[r·M + m], added in float32 in order r = 0, 1, …:
 * the same additions, in the same order, as the stock kernel's (transpose, then each row summed
 * from its start), so the same numbers. Other reductions go to the stock kernel.
 */
import type * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasm-backend.js';
import { leadingAxes } from './webgpu-lead-sum.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Builds the kernel config; `stock` runs the reductions this one does not take. */
export function makeWasmLeadSumConfig(stock: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const lead = x.dtype === 'float32' ? leadingAxes(axis, x.shape) : -1;
    if (lead < 0) return stock(args) as tf.TensorInfo;
    const backend = args.backend as unknown as WasmBackend;
    const rows = x.shape.slice(0, lead).reduce((a, b) => a * b, 1);
    const rest = x.shape.slice(lead);
    const m = rest.reduce((a, b) => a * b, 1);
    const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, lead).map(() => 1), ...rest] : rest, 'float32');
    // Views taken after the allocation, which may grow (and so detach) the heap.
    const src = backend.typedArrayFromHeap(x);
    const acc = backend.typedArrayFromHeap(out);
    acc.set(src.subarray(0, m));
    // Four rows a pass, each addition rounded to float32 as the stored sums would be.
    const f = Math.fround;
    let r = 1;
    for (; r + 3 < rows; r += 4) {
      const s0 = r * m;
      const s1 = s0 + m;
      const s2 = s1 + m;
      const s3 = s2 + m;
      for (let k = 0; k < m; k++) {
        acc[k] = f(f(f((acc[k] as number) + (src[s0 + k] as number)) + (src[s1 + k] as number)) + (src[s2 + k] as number)) + (src[s3 + k] as number);
      }
    }
    for (; r < rows; r++) {
      const s0 = r * m;
      for (let k = 0; k < m; k++) acc[k] = (acc[k] as number) + (src[s0 + k] as number);
    }
    return out;
  };
  return { kernelName: 'Sum', backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc };
}
