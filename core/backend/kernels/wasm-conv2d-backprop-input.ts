/**
 * A faster `Conv2DBackpropInput` for the wasm backend: the input gradient of a conv is a stride-1
 * conv (XNNPACK: SIMD, threaded) of dy, spread out by the stride, with the filter flipped spatially
 * and its in/out channels swapped:
 *
 *   dx[n, p, q, ci] = Σ_{a,b,co} dyₛ[n, p + top − a, q + left − b, co] · W[a, b, ci, co]
 *                   = Conv2D(dyₛ, W', pad [k−1−top, H+top−Hₛ]),  W'[a, b, co, ci] = W[k−1−a, k−1−b, ci, co]
 *
 * where dyₛ[n, i·s, j·s, :] = dy[n, i, j, :] and zero between (dyₛ = dy for stride 1; for stride s it
 * is dy with s−1 zero rows and columns after each, made by one pad, so 1/s² of its products are
 * useful: still far faster than the stock kernel, a single-threaded plain loop).
 *
 * W' is written by one loop over the filter in the heap: TF.js's wasm Reverse took ~5 ms for a
 * 3×3×128×128 filter, more than the 8×8 conv it feeds, and it does not thread.
 *
 * The stock kernel stays in charge of what this one does not take: NCHW, and padding wider than the
 * filter (top > kh − 1 or bottom > kh − 1), which would need a negative pad.
 */
import * as tf from '@tensorflow/tfjs';
import { type WasmBackend, runWasmKernel } from './wasm-backend.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** W [kh, kw, Cin, Cout] → W' [kh, kw, Cout, Cin], flipped in both spatial axes. */
function flipFilter(backend: WasmBackend, filter: tf.TensorInfo): tf.TensorInfo {
  const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([kh, kw, cout, cin], 'float32');
  // Views taken after the allocation, which may grow (and so detach) the heap.
  const src = backend.typedArrayFromHeap(filter);
  const dst = backend.typedArrayFromHeap(out);
  const taps = kh * kw;
  const size = cin * cout;
  // Flipping both axes reverses the tap index: (kh−1−a)·kw + (kw−1−b) = taps−1 − (a·kw + b).
  for (let t = 0; t < taps; t++) {
    const s0 = t * size;
    const d0 = (taps - 1 - t) * size;
    for (let ci = 0; ci < cin; ci++) {
      const s = s0 + ci * cout;
      for (let co = 0; co < cout; co++) dst[d0 + co * cin + ci] = src[s + co] as number;
    }
  }
  return out;
}

/** Builds the kernel config; `stock` runs the cases this kernel does not take. */
export function makeWasmConv2DBackpropInputConfig(stock: tf.KernelFunc | undefined): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as tf.KernelBackend;
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const { strides, pad, dimRoundingMode, inputShape } = attrs;
    const filterShape = filter.shape as [number, number, number, number]; // [kh, kw, Cin, Cout]
    const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = info;
    const { top, left } = info.padInfo;
    const [n, h, w] = inputShape;
    const cout = info.outChannels;
    // dyₛ's height: Ho·s, less the rows past H + top, which hold only the zeros the spreading adds
    // (the last real row, (Ho−1)·s, is inside); for stride 1, Ho. Widths alike.
    const hs = sh > 1 ? Math.min(ho * sh, h + top) : ho;
    const ws = sw > 1 ? Math.min(wo * sw, w + left) : wo;
    const nhwc = attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
    if (!nhwc || top > kh - 1 || left > kw - 1 || h + top < hs || w + left < ws) {
      if (stock === undefined) throw new Error('wasm Conv2DBackpropInput: NCHW or padding wider than the filter, without a stock kernel');
      return stock(args) as tf.TensorInfo;
    }
    const temps: tf.TensorInfo[] = [];
    const keep = (t: tf.TensorInfo): tf.TensorInfo => (temps.push(t), t);
    try {
      let spread = dy; // dyₛ: [N, Hₛ, Wₛ, Cout]
      if (sh > 1 || sw > 1) {
        const dy5 = keep(runWasmKernel(backend, 'Reshape', { x: dy }, { shape: [n * ho, 1, wo, 1, cout] }));
        const padded = keep(runWasmKernel(backend, 'PadV2', { x: dy5 }, { paddings: [[0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 }));
        spread = keep(runWasmKernel(backend, 'Reshape', { x: padded }, { shape: [n, ho * sh, wo * sw, cout] }));
        if (hs < ho * sh || ws < wo * sw) spread = keep(runWasmKernel(backend, 'Slice', { x: spread }, { begin: [0, 0, 0, 0], size: [n, hs, ws, cout] }));
      }
      const flipped = keep(flipFilter(backend as unknown as WasmBackend, filter)); // [kh, kw, Cout, Cin]
      return runWasmKernel(backend, 'Conv2D', { x: spread, filter: flipped }, {
        strides: [1, 1],
        pad: [[0, 0], [kh - 1 - top, h + top - hs], [kw - 1 - left, w + left - ws], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      }); // [N, H, W, Cin]
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc };
}
