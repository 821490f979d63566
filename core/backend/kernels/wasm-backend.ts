/**
 * What the studio's wasm kernels written in JS share: the slice of BackendWasm they call (not
 * exported as a type by tfjs-backend-wasm 4.22), and running another registered wasm kernel from
 * inside one (XNNPACK's Conv2D, BatchMatMul, … on the kernel's own backend).
 */
import * as tf from '@tensorflow/tfjs';

/** BackendWasm's own methods a JS kernel uses: a heap-backed output, its float view, reference counts. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId): void;
  incRef(dataId: tf.DataId): void;
}

/** Runs the wasm kernel registered as `name` on `backend` (a kernel's own backend argument). */
export function runWasmKernel(backend: object, name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`wasm kernel '${name}' is not registered`);
  return kernel.kernelFunc({ inputs, attrs, backend }) as tf.TensorInfo;
}
