/**
 * `Conv2DBackpropFilter` for the wasm backend, which TF.js 4.22 lacks (every conv2d weight gradient
 * fails there with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'").
 *
 * im2col and one matrix product on XNNPACK's fully-connected operator (SIMD, threaded), per chunk
 * of images, the chunks' products summed:
 *
 *   dW[(a, b, ci), co] = Σ_m cols[(a, b, ci), m] · dy[m, co],   m = (n, i, j)
 *   cols[(a, b, ci), m] = x[n, i·sh + a − top, j·sw + b − left, ci]   (0 in the padding)
 *
 * The product comes out in dW's own layout [kh·kw·Cin, Cout]. cols is built in JS from xᵀ
 * [Cin, N, H, W] (one Transpose), so the summed axis is contiguous: for stride 1 and rows of 16 or
 * more, from xᵀ padded (x padded, then transposed), a run of Ho·Wp numbers per (tap, ci, image)
 * (im2colRows); otherwise element by element (im2col), which at 4² and 8² costs less than the
 * extra columns im2colRows would add.
 *
 * It replaced one Conv2D with the roles swapped (Cin as the batch, dy as a Ho×Wo filter over N
 * channels), which XNNPACK ran 2–3× slower than the forward conv (a kernel of Ho·Wo taps of N = 8
 * channels each; for a 1×1 conv a 32×32 filter where one product suffices); this one runs at about
 * 1.5× the forward conv (the copies, and the Wp − Wo extra columns), the 1×1 ones at ~1×.
 */
import * as tf from '@tensorflow/tfjs';
import { type WasmBackend, runWasmKernel } from './wasm-backend.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Runs another wasm kernel on TensorInfos (no tape, no engine bookkeeping). */

/**
 * The summed axis is cut into chunks of whole images, about this many positions each: XNNPACK's
 * matMul does not block that axis, so one product over all N·Ho·Wo positions streams its operands
 * from L2; a chunk's stay in L1, and its cols are still in cache when the product reads them.
 */
const CHUNK = 1024;

/** Rows at least this long are copied with one TypedArray.set, shorter ones element by element. */
const SET_MIN = 16;

interface Geometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  ho: number;
  wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

/**
 * im2col for images [n0, n0 + g): [kh·kw·Cin, g·Ho·Wo] from xᵀ [Cin, N, H, W], row (a·kw + b)·Cin + ci
 * holding x[n, i·sh + a − top, j·sw + b − left, ci] over (n, i, j), zero where that is padding.
 */
function im2col(backend: WasmBackend, xT: tf.TensorInfo, geo: Geometry, n0: number, g: number): tf.TensorInfo {
  const { n, h, w, cin, ho, wo, kh, kw, sh, sw, top, left } = geo;
  const len = g * ho * wo;
  const out = backend.makeOutput([kh * kw * cin, len], 'float32');
  // Views taken after the allocation, which may grow (and so detach) the heap.
  const src = backend.typedArrayFromHeap(xT);
  const dst = backend.typedArrayFromHeap(out);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      // Output columns whose input column is inside x: j in [jlo, jhi).
      const jlo = Math.min(wo, Math.max(0, Math.ceil((left - b) / sw)));
      const jhi = Math.max(jlo, Math.min(wo, Math.floor((w - 1 + left - b) / sw) + 1));
      const x0 = jlo * sw + b - left; // input column of output column jlo
      for (let ci = 0; ci < cin; ci++) {
        let d = ((a * kw + b) * cin + ci) * len;
        for (let img = n0; img < n0 + g; img++) {
          const plane = (ci * n + img) * h;
          for (let i = 0; i < ho; i++, d += wo) {
            const xr = i * sh + a - top;
            if (xr < 0 || xr >= h || jlo === jhi) {
              dst.fill(0, d, d + wo);
              continue;
            }
            for (let j = 0; j < jlo; j++) dst[d + j] = 0;
            for (let j = jhi; j < wo; j++) dst[d + j] = 0;
            const s0 = (plane + xr) * w + x0;
            if (sw === 1 && jhi - jlo >= SET_MIN) {
              dst.set(src.subarray(s0, s0 + jhi - jlo), d + jlo);
            } else {
              for (let j = jlo, s = s0; j < jhi; j++, s += sw) dst[d + j] = src[s] as number;
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * im2col for a stride-1 conv, images [n0, n0 + g), over x padded as the forward pass padded it
 * (xᵀp [Cin, N, Hp, Wp]) and with Wp columns per row, not Wo: [kh·kw·Cin, g·Ho·Wp]. Then each
 * (tap, ci, image) is one run of Ho·Wp numbers in xᵀp, copied at once; the Wp − Wo extra columns
 * meet zeros in dy (see dyRowsPadded), and the last b of each row, which ran into the next row, are
 * zeroed. Costs Wp/Wo more products (1.06 at 32², 1.5 at 4²) but no row-by-row copying, which
 * took as long as the product itself.
 */
function im2colRows(backend: WasmBackend, xTp: tf.TensorInfo, geo: Geometry, n0: number, g: number): tf.TensorInfo {
  const { n, cin, ho, kh, kw } = geo;
  const [, , hp, wp] = xTp.shape as [number, number, number, number];
  const run = ho * wp;
  const len = g * run;
  const out = backend.makeOutput([kh * kw * cin, len], 'float32');
  // Views taken after the allocation, which may grow (and so detach) the heap.
  const src = backend.typedArrayFromHeap(xTp);
  const dst = backend.typedArrayFromHeap(out);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      for (let ci = 0; ci < cin; ci++) {
        let d = ((a * kw + b) * cin + ci) * len;
        for (let img = n0; img < n0 + g; img++, d += run) {
          const s = ((ci * n + img) * hp + a) * wp + b;
          // The last runs of the last plane end up to kw − 1 past xᵀp: numbers the loop below zeroes.
          const end = Math.min(s + run, src.length);
          dst.set(src.subarray(s, end), d);
          if (b > 0) {
            for (let i = 1; i <= ho; i++) for (let j = i * wp - b; j < i * wp; j++) dst[d + j] = 0;
          }
        }
      }
    }
  }
  return out;
}

/** dy's rows for images [n0, n0 + g), each row widened to Wp with zeros: [g·Ho·Wp, Cout]. */
function dyRowsPadded(backend: WasmBackend, dy: tf.TensorInfo, n0: number, g: number, wp: number): tf.TensorInfo {
  const [, ho, wo, cout] = dy.shape as [number, number, number, number];
  const out = backend.makeOutput([g * ho * wp, cout], 'float32');
  const src = backend.typedArrayFromHeap(dy);
  const dst = backend.typedArrayFromHeap(out);
  if (wp > wo) dst.fill(0);
  const row = wo * cout;
  for (let r = 0; r < g * ho; r++) {
    const from = (n0 * ho + r) * row;
    dst.set(src.subarray(from, from + row), r * wp * cout);
  }
  return out;
}

/** dy's rows for images [n0, n0 + g), as [g·Ho·Wo, Cout]. */
function dyRows(backend: WasmBackend, dy: tf.TensorInfo, n0: number, g: number): tf.TensorInfo {
  const [, ho, wo, cout] = dy.shape as [number, number, number, number];
  const size = ho * wo * cout;
  const out = backend.makeOutput([g * ho * wo, cout], 'float32');
  const src = backend.typedArrayFromHeap(dy);
  backend.typedArrayFromHeap(out).set(src.subarray(n0 * size, (n0 + g) * size));
  return out;
}

function backpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as tf.KernelBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const { strides, pad, dimRoundingMode, filterShape } = attrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`wasm Conv2DBackpropFilter supports only NHWC, got ${attrs.dataFormat}`);
  }
  const xShape = x.shape as [number, number, number, number]; // [N, H, W, Cin]
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [n, h, w, cin] = xShape;
  const cout = info.outChannels;
  const geo: Geometry = {
    n,
    h,
    w,
    cin,
    ho: info.outHeight,
    wo: info.outWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
  const wasm = backend as unknown as WasmBackend;
  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => (temps.push(t), t);
  try {
    // Rows of at least 16: whole runs (im2colRows, Wp/Wo ≤ 1.125); shorter: exact (im2col).
    const byRuns = geo.sh === 1 && geo.sw === 1 && geo.wo >= 16;
    let xp = x;
    if (byRuns) {
      // Padded as the forward pass read it: rows -top … Ho + kh − 2 − top, columns alike. Padded
      // channels-last, before the transpose: there wasm's PadV2 copies whole rows of W·Cin numbers,
      // after it rows of W (at 64², 32 channels: 1 ms against 2.4 ms).
      const bottom = geo.ho + geo.kh - 1 - h - geo.top;
      const right = geo.wo + geo.kw - 1 - w - geo.left;
      if (geo.top + bottom + geo.left + right > 0) {
        xp = keep(runWasmKernel(backend, 'PadV2', { x }, { paddings: [[0, 0], [geo.top, bottom], [geo.left, right], [0, 0]], constantValue: 0 }));
      }
    }
    const xT = keep(runWasmKernel(backend, 'Transpose', { x: xp }, { perm: [3, 0, 1, 2] })); // [Cin, N, H, W]; Hp, Wp when byRuns
    const wp = byRuns ? (xT.shape[3] as number) : geo.wo;
    const g = Math.max(1, Math.min(n, Math.floor(CHUNK / (geo.ho * wp))));
    const parts: tf.TensorInfo[] = [];
    for (let n0 = 0; n0 < n; n0 += g) {
      const gi = Math.min(g, n - n0);
      // Freed as soon as the product is made, so the next chunk reuses the memory.
      const cols = byRuns ? im2colRows(wasm, xT, geo, n0, gi) : im2col(wasm, xT, geo, n0, gi);
      const rows = wp > geo.wo ? dyRowsPadded(wasm, dy, n0, gi, wp) : gi === n ? runWasmKernel(backend, 'Reshape', { x: dy }, { shape: [n * geo.ho * geo.wo, cout] }) : dyRows(wasm, dy, n0, gi);
      try {
        parts.push(keep(runWasmKernel(backend, 'BatchMatMul', { a: cols, b: rows }, { transposeA: false, transposeB: false }))); // [kh·kw·Cin, Cout]
      } finally {
        backend.disposeData(cols.dataId);
        backend.disposeData(rows.dataId);
      }
    }
    const sum = parts.length === 1 ? (parts[0] as tf.TensorInfo) : keep(runWasmKernel(backend, 'AddN', parts as unknown as tf.NamedTensorInfoMap, {}));
    return runWasmKernel(backend, 'Reshape', { x: sum }, { shape: [geo.kh, geo.kw, cin, cout] });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

export function makeWasmConv2DBackpropFilterConfig(): tf.KernelConfig {
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: backpropFilter as tf.KernelFunc };
}
