/**
 * What the studio's webgpu kernels share: the slices of tfjs-backend-webgpu 4.22's program
 * interface they fill in and of the backend they call (neither is exported as a type), and a
 * program with one thread per output element whose WGSL body sees `index` (the flat output
 * index) and the named inputs as arrays.
 */
import * as tf from '@tensorflow/tfjs';

export interface WebGpuProgram {
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  size: boolean;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey: string;
  getUserCode(): string;
}

/** The slice of the webgpu backend the studio's kernels call: run a program, free a temporary. */
export interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms: Array<{ type: string; data: number[] }>): tf.TensorInfo;
  disposeData(dataId: object): void;
}

const WORKGROUP = 64;
/** WebGPU's guaranteed limit on workgroups along one dimension. */
export const MAX_WORKGROUPS = 65535;

/** A uniform: an i32 or an f32. */
export type Uniform = ['i32' | 'f32', string, number];

/**
 * Runs `body` once per element of a float32 output of `outputShape` (as many workgroup rows as
 * the size needs): one dispatch. `uniforms` are declared and filled in order; `helpers`: WGSL
 * functions the body calls.
 */
export function runPerOutput(backend: unknown, shaderKey: string, inputs: Record<string, tf.TensorInfo>, outputShape: number[], uniforms: Uniform[], body: string, helpers = ''): tf.TensorInfo {
  const groups = Math.ceil(tf.util.sizeFromShape(outputShape) / WORKGROUP);
  const x = Math.max(1, Math.min(groups, MAX_WORKGROUPS));
  const program: WebGpuProgram = {
    variableNames: Object.keys(inputs),
    uniforms: uniforms.map(([type, name]) => `${name} : ${type},`).join(' '),
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    outputShape,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [x, Math.max(1, Math.ceil(groups / x)), 1],
    shaderKey,
    getUserCode: () => `${helpers}
    fn main(index : i32) {
      if (index < uniforms.size) {
        ${body}
      }
    }
  `,
  };
  const data = uniforms.map(([type, , value]) => ({ type: type === 'i32' ? 'int32' : 'float32', data: [value] }));
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, Object.values(inputs), 'float32', data);
}
