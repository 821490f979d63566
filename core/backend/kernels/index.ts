/**
 * Kernels and gradients training needs that a backend lacks, registered per backend.
 * Each is checked against the cpu backend or finite differences in test/unit/backend/.
 */
import * as tf from '@tensorflow/tfjs';
import { registerGreaterGrad } from './greater-grad.js';
import { wasmConv2DBackpropFilterConfig } from './wasm-conv2d-backprop-filter.js';
import { makeWasmConv2DBackpropInputConfig } from './wasm-conv2d-backprop-input.js';

/** What was added for a backend, for the startup report. */
export interface TrainingKernelReport {
  backend: string;
  added: string[];
}

const marker = Symbol.for('gan-atelier.wasm-conv2d-backprop-input');

/**
 * Registers what `backendName` needs for training; idempotent. Call after the backend is set up
 * (the wasm kernels reuse its Conv2D/Transpose/Slice/Reverse kernels).
 */
export function registerTrainingKernels(backendName: string): TrainingKernelReport {
  const added: string[] = [];
  if (tf.getGradient('Greater') === undefined) {
    registerGreaterGrad();
    added.push('gradient Greater');
  }
  if (backendName === 'wasm') {
    if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
      tf.registerKernel(wasmConv2DBackpropFilterConfig);
      added.push('wasm Conv2DBackpropFilter');
    }
    const current = tf.getKernel('Conv2DBackpropInput', 'wasm');
    if (current === undefined || !(marker in current)) {
      const config = makeWasmConv2DBackpropInputConfig(current?.kernelFunc);
      Object.defineProperty(config, marker, { value: true });
      if (current !== undefined) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
      tf.registerKernel(config);
      added.push('wasm Conv2DBackpropInput (stride 1 as Conv2D)');
    }
  }
  return { backend: backendName, added };
}
