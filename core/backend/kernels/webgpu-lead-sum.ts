/**
 * `Sum` and `Mean` over leading axes on the webgpu backend in one dispatch. TF.js 4.22 reduces
 * only the innermost axis, so a sum over [0, 1, 2] of an [N, H, W, C] tensor (every bias gradient,
 * the broadcast gradients of Add and Multiply, ΣₖW² of the demodulation, the split
 * Conv2DBackpropFilter's partial sums) first transposes it: two dispatches and a temporary.
 *
 * Here the tensor is read as [R, M] (R: the product of the reduced leading axes) and each
 * workgroup of 256 threads sums a block of columns: COLS adjacent columns (so reads are
 * contiguous) × 256/COLS lanes of rows, added up in workgroup memory at the end.
 *   out[m] = scale · Σ_r x[r·M + m]        (scale 1 for Sum, 1/R for Mean)
 * Other reductions (inner axes, all axes, int dtypes) go to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { MAX_WORKGROUPS, type WebGpuBackendLike, type WebGpuProgram } from './webgpu-program.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

const WORKGROUP = 256;


/** Columns per workgroup: the power of two ≥ M, at most the workgroup. */
export function columnsPerGroup(m: number): number {
  let c = 1;
  while (c < m && c < WORKGROUP) c *= 2;
  return c;
}

function program(outputShape: number[], m: number): WebGpuProgram {
  const cols = columnsPerGroup(m);
  const lanes = WORKGROUP / cols;
  const groups = Math.ceil(m / cols);
  const x = Math.min(groups, MAX_WORKGROUPS);
  return {
    variableNames: ['x'],
    uniforms: 'rows : i32, cols : i32, scale : f32,',
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    outputShape,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [x, Math.ceil(groups / x), 1],
    shaderKey: `atelierLeadSum_${cols}`,
    getUserCode: () => `
    var<workgroup> partial : array<f32, ${WORKGROUP}>;
    fn main(index : i32) {
      let group = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
      let t = i32(localId.x);
      let lane = t / ${cols};
      let col = group * ${cols} + t % ${cols};
      var acc = 0.0;
      if (col < uniforms.cols) {
        for (var r = lane; r < uniforms.rows; r = r + ${lanes}) {
          acc = acc + x[r * uniforms.cols + col];
        }
      }
      partial[t] = acc;
      workgroupBarrier();
      for (var s = ${Math.floor(lanes / 2)}; s > 0; s = s / 2) {
        if (lane < s) {
          partial[t] = partial[t] + partial[t + s * ${cols}];
        }
        workgroupBarrier();
      }
      if (lane == 0 && col < uniforms.cols) {
        setOutputAtIndex(col, partial[t] * uniforms.scale);
      }
    }
  `,
  };
}

/** How many leading axes `axis` names (−1 unless it is exactly 0…k−1 with 0 < k < rank). */
export function leadingAxes(axis: number | number[], shape: number[]): number {
  const axes = tf.util.parseAxisParam(axis, shape).slice().sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return -1;
  return axes.every((a, i) => a === i) ? axes.length : -1;
}

/** Sums x over its first `lead` axes, times `scale`, on webgpu: one dispatch. */
export function webgpuLeadSum(backend: unknown, x: tf.TensorInfo, lead: number, scale: number, keepDims: boolean): tf.TensorInfo {
  const rows = x.shape.slice(0, lead).reduce((a, b) => a * b, 1);
  const rest = x.shape.slice(lead);
  const m = rest.reduce((a, b) => a * b, 1);
  const outputShape = keepDims ? [...x.shape.slice(0, lead).map(() => 1), ...rest] : rest;
  return (backend as WebGpuBackendLike).runWebGPUProgram(program(outputShape, m), [x], 'float32', [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [m] },
    { type: 'float32', data: [scale] },
  ]);
}

function makeConfig(kernelName: 'Sum' | 'Mean', stock: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const lead = x.dtype === 'float32' && x.shape.length > 1 ? leadingAxes(axis, x.shape) : -1;
    if (lead < 0 || tf.util.sizeFromShape(x.shape) === 0) return stock(args);
    const rows = x.shape.slice(0, lead).reduce((a, b) => a * b, 1);
    return webgpuLeadSum(args.backend, x, lead, kernelName === 'Mean' ? 1 / rows : 1, keepDims);
  };
  return { kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

/** Sum and Mean for webgpu, falling back to `stock` (the kernels they replace) for other axes. */
export function makeWebGpuLeadSumConfigs(stockSum: tf.KernelFunc, stockMean: tf.KernelFunc): tf.KernelConfig[] {
  return [makeConfig('Sum', stockSum), makeConfig('Mean', stockMean)];
}
