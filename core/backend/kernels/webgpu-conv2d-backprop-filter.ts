/**
 * `Conv2DBackpropFilter` for the webgpu backend, split over the sum.
 *
 * TF.js 4.22's own runs one GPU thread per filter element, each summing over every
 * (image, output row, output column): at 128² with 32 channels that is 9,216 threads each doing
 * half a million multiply-adds, and it took 2.07 s of the 2.15 s of GPU time of a whole training
 * step on an H100 (bench/step --profile, bench/device/run.sh). Here the rows (image × output row)
 * are cut into S slices, one thread per (slice, filter element) writes a partial sum, and the
 * backend's own Sum adds the S partials:
 *
 *   dW[a, b, ci, co] = Σ_s Σ_{(n,i) in slice s} Σ_j x[n, i·sh + a − top, j·sw + b − left, ci] · dy[n, i, j, co]
 *
 * Neighbouring threads differ in co, so their reads of dy are contiguous and their reads of x are
 * the same address. Two dispatches per call, like the stock kernel's one plus a reduction.
 */
import * as tf from '@tensorflow/tfjs';
import { MAX_WORKGROUPS, type WebGpuBackendLike, type WebGpuProgram } from './webgpu-program.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Threads to aim for: enough to fill a large GPU, few enough that each thread's slice stays long. */
const TARGET_THREADS = 1 << 18;
const WORKGROUP = 64;


/** How many slices: about TARGET_THREADS threads, at most one slice per row, within the dispatch limit. */
export function splitCount(filterSize: number, rows: number): number {
  const wanted = Math.max(1, Math.round(TARGET_THREADS / filterSize));
  const fits = Math.max(1, Math.floor((MAX_WORKGROUPS * WORKGROUP) / filterSize));
  return Math.min(rows, wanted, fits);
}

function program(filterSize: number, slices: number): WebGpuProgram {
  return {
    variableNames: ['x', 'dy'],
    uniforms:
      'pads : vec2<i32>, strides : vec2<i32>, outHeight : i32, outWidth : i32, inHeight : i32, inWidth : i32, rows : i32, rowsPerSlice : i32, fw : i32, cin : i32, cout : i32, filterSize : i32,',
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    outputShape: [slices, filterSize],
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.ceil((slices * filterSize) / WORKGROUP), 1, 1],
    shaderKey: 'atelierConv2DDerFilterSplit',
    getUserCode: () => `
    fn main(index : i32) {
      if (index < uniforms.size) {
        let s = index / uniforms.filterSize;
        let f = index - s * uniforms.filterSize;
        let d2 = f % uniforms.cout;
        let d1 = (f / uniforms.cout) % uniforms.cin;
        let wC = (f / (uniforms.cout * uniforms.cin)) % uniforms.fw;
        let wR = f / (uniforms.cout * uniforms.cin * uniforms.fw);
        let rowStart = s * uniforms.rowsPerSlice;
        let rowEnd = min(rowStart + uniforms.rowsPerSlice, uniforms.rows);
        var dotProd = 0.0;
        for (var r = rowStart; r < rowEnd; r = r + 1) {
          let b = r / uniforms.outHeight;
          let yR = r - b * uniforms.outHeight;
          let xR = wR + yR * uniforms.strides[0] - uniforms.pads[0];
          if (xR < 0 || xR >= uniforms.inHeight) {
            continue;
          }
          for (var yC = 0; yC < uniforms.outWidth; yC = yC + 1) {
            let xC = wC + yC * uniforms.strides[1] - uniforms.pads[1];
            if (xC < 0 || xC >= uniforms.inWidth) {
              continue;
            }
            dotProd = dotProd + getX(b, xR, xC, d1) * getDy(b, yR, yC, d2);
          }
        }
        setOutputAtIndex(index, dotProd);
      }
    }
  `,
  };
}

function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WebGpuBackendLike;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`webgpu Conv2DBackpropFilter supports only NHWC, got ${attrs.dataFormat}`);
  }
  const xShape = x.shape as [number, number, number, number]; // [N, H, W, Cin]
  const info = tf.backend_util.computeConv2DInfo(xShape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const filterShape = info.filterShape as [number, number, number, number]; // [kh, kw, Cin, Cout]
  const filterSize = filterShape.reduce((a, b) => a * b, 1);
  const rows = info.batchSize * info.outHeight;
  const slices = splitCount(filterSize, rows);
  const rowsPerSlice = Math.ceil(rows / slices);
  const partials = backend.runWebGPUProgram(program(filterSize, slices), [x, dy], 'float32', [
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [info.outHeight] },
    { type: 'int32', data: [info.outWidth] },
    { type: 'int32', data: [info.inHeight] },
    { type: 'int32', data: [info.inWidth] },
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [rowsPerSlice] },
    { type: 'int32', data: [info.filterWidth] },
    { type: 'int32', data: [info.inChannels] },
    { type: 'int32', data: [info.outChannels] },
    { type: 'int32', data: [filterSize] },
  ]); // [S, kh·kw·Cin·Cout]
  const sum = tf.getKernel('Sum', 'webgpu');
  const reshape = tf.getKernel('Reshape', 'webgpu');
  if (sum === undefined || reshape === undefined) throw new Error('webgpu Sum/Reshape kernels are not registered');
  try {
    const summed = sum.kernelFunc({ inputs: { x: partials }, attrs: { axis: [0], keepDims: false }, backend: args.backend }) as tf.TensorInfo; // [kh·kw·Cin·Cout]
    try {
      return reshape.kernelFunc({ inputs: { x: summed }, attrs: { shape: filterShape }, backend: args.backend }) as tf.TensorInfo;
    } finally {
      backend.disposeData(summed.dataId);
    }
  } finally {
    backend.disposeData(partials.dataId);
  }
}

export function makeWebGpuConv2DBackpropFilterConfig(): tf.KernelConfig {
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'webgpu', kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc };
}
