/**
 * Faster wasm kernels for `LeakyRelu`, `AvgPoolGrad` and `Identity`. TF.js 4.22's wasm backend
 * runs the first two as plain per-element loops: on [8, 64, 64, 32] (1M numbers, a 64² step's
 * largest maps) its LeakyRelu took 5.9 ms and its AvgPoolGrad (2×2 windows) 7.9 ms, where a
 * Multiply of the same size takes 0.24 ms. Together ~170 ms of a 64² training step, unthreaded.
 *
 *   LeakyRelu(x, α) = x · Step(x, α)   (Step: 1 where x > 0, else α; the same product the stock
 *                                        kernel forms, x or α·x, so the same numbers)
 *   AvgPoolGrad with windows that do not overlap or pad (filter = stride, no padding, as D's 2×2
 *   box downsampling): each dx number is its window's dy times 1/(kh·kw), one JS loop over the heap.
 *
 * Other pools (overlapping windows, padding) go to the stock kernel.
 *
 * And `Identity` (tf.clone, customGrad's outputs, the tape's pass-throughs: ~1,000 a 64² step) shares
 * its input's buffer, as the cpu backend's does and wasm's own Reshape does, where the stock wasm
 * kernel copied it (a 4 MB copy each on [8, 64, 64, 32]; ~30 ms a step). No wasm kernel writes
 * into its inputs, so a shared buffer is never changed under another tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { type WasmBackend, runWasmKernel } from './wasm-backend.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

function leakyRelu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmBackend;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { alpha } = args.attrs as unknown as tf.LeakyReluAttrs;
  const slope = runWasmKernel(backend, 'Step', { x }, { alpha });
  try {
    return runWasmKernel(backend, 'Multiply', { a: x, b: slope }, {});
  } finally {
    backend.disposeData(slope.dataId);
  }
}

/** dx for pooling windows that tile the input: kh × kw windows, stride (kh, kw), no padding. */
function tiledAvgPoolGrad(backend: WasmBackend, dy: tf.TensorInfo, input: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const out = backend.makeOutput(input.shape, 'float32');
  // Views taken after the allocation, which may grow (and so detach) the heap.
  const src = backend.typedArrayFromHeap(dy);
  const dst = backend.typedArrayFromHeap(out);
  // Rows and columns past the last window get no gradient.
  if (ho * kh < h || wo * kw < w) dst.fill(0);
  // The stock kernel's multiplier, a float32; each product rounds once to float32 on the store.
  const m = Math.fround(1 / (kh * kw));
  const row = w * c;
  for (let img = 0; img < n; img++) {
    for (let i = 0; i < ho; i++) {
      const s0 = (img * ho + i) * wo * c;
      // The window row's first input row, then copies of it for the other kh − 1.
      const d0 = (img * h + i * kh) * row;
      for (let j = 0; j < wo; j++) {
        const s = s0 + j * c;
        const d = d0 + j * kw * c;
        for (let k = 0; k < c; k++) {
          const v = (src[s + k] as number) * m;
          for (let b = 0; b < kw; b++) dst[d + b * c + k] = v;
        }
      }
      for (let a = 1; a < kh; a++) dst.copyWithin(d0 + a * row, d0, d0 + wo * kw * c);
    }
  }
  return out;
}

/** x itself: one more reference to its buffer (string tensors, kept off the heap, go to `stock`). */
function identity(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return stock(args) as tf.TensorInfo;
  (args.backend as unknown as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** The kernel configs; `stockAvgPoolGrad` runs the pools the fast path does not take, `stockIdentity` strings. */
export function makeWasmPointwiseConfigs(stockAvgPoolGrad: tf.KernelFunc | undefined, stockIdentity: tf.KernelFunc): tf.KernelConfig[] {
  const avgPoolGrad = (args: KernelArgs): tf.TensorInfo => {
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.AvgPoolGradAttrs & { dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    const tiled = info.strideHeight === info.filterHeight && info.strideWidth === info.filterWidth && top + bottom + left + right === 0;
    if (tiled && input.dtype === 'float32') return tiledAvgPoolGrad(args.backend as unknown as WasmBackend, dy, input, info);
    if (stockAvgPoolGrad === undefined) throw new Error('wasm AvgPoolGrad: overlapping or padded windows, without a stock kernel');
    return stockAvgPoolGrad(args) as tf.TensorInfo;
  };
  return [
    { kernelName: 'LeakyRelu', backendName: 'wasm', kernelFunc: leakyRelu as tf.KernelFunc },
    { kernelName: 'AvgPoolGrad', backendName: 'wasm', kernelFunc: avgPoolGrad as tf.KernelFunc },
    { kernelName: 'Identity', backendName: 'wasm', kernelFunc: ((args: KernelArgs) => identity(args, stockIdentity)) as tf.KernelFunc },
  ];
}
