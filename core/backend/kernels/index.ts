/**
 * Kernels and gradients training needs that a backend lacks (or has in a form too slow to train
 * with), registered per backend. Each is checked in test/unit/backend/ against the cpu backend's
 * stock kernel, a float64 loop, or finite differences.
 */
import * as tf from '@tensorflow/tfjs';
import { registerAvgPoolGradGrad } from './avg-pool-grad-grad.js';
import { registerAvgPoolSameGrad } from './avg-pool-same-grad.js';
import { makeConv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { elementwiseGradsRegistered, registerElementwiseGrads } from './elementwise-grads.js';
import { registerFusedEpilogues } from './fused-epilogue.js';
import { registerGreaterGrad } from './greater-grad.js';
import { reduceGradsRegistered, registerReduceGrads } from './reduce-grads.js';
import { makeWasmConv2DBackpropFilterConfig } from './wasm-conv2d-backprop-filter.js';
import { makeWasmConv2DBackpropInputConfig } from './wasm-conv2d-backprop-input.js';
import { makeWasmDepthwiseBackpropConfigs } from './wasm-depthwise-backprop.js';
import { makeWasmLeadSumConfig } from './wasm-lead-sum.js';
import { makeWasmBatchMatMulConfig } from './wasm-matmul.js';
import { makeWasmPointwiseConfigs } from './wasm-pointwise.js';
import { makeWebGpuConv2DBackpropFilterConfig } from './webgpu-conv2d-backprop-filter.js';
import { makeWebGpuLeadSumConfigs } from './webgpu-lead-sum.js';

/** What was added for a backend, for the startup report. */
export interface TrainingKernelReport {
  backend: string;
  added: string[];
}

const OURS = Symbol.for('gan-atelier.training-kernel');

/** True when the registered kernel is one of ours. */
export function isOurKernel(kernelName: string, backendName: string): boolean {
  const k = tf.getKernel(kernelName, backendName);
  return k !== undefined && OURS in k;
}

/** Registers `config`, replacing any stock kernel of that name. */
function replaceKernel(config: tf.KernelConfig): void {
  Object.defineProperty(config, OURS, { value: true });
  if (tf.getKernel(config.kernelName, config.backendName) !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

/**
 * Registers what `backendName` needs for training; idempotent. Call after the backend is set up
 * (these kernels reuse its Conv2D, Transpose, Slice and Reverse kernels).
 *   all:  gradients for Greater and AvgPoolGrad (double backprop through TF.js's leakyRelu gradient
 *         and avgPool, for R1); Sum's and Mean's gradients without a host-made `ones` (an upload per
 *         call on webgpu); LeakyRelu's as dy · Step(x, α), and Rsqrt's, Sqrt's and Square's with
 *         their numbers as kept constants
 *         AvgPool's gradient with 'same' padding (the stock one divides border windows by the whole window)
 *   wasm: Conv2DBackpropFilter (missing) as one XNNPACK matMul per filter tap; Conv2DBackpropInput
 *         as an XNNPACK Conv2D with the flipped filter (the stock one is a single-threaded loop)
 *   wasm: DepthwiseConv2dNativeBackpropInput / …Filter (missing: no gradient passed a MobileNet)
 *   wasm: LeakyRelu as x · Step(x, α), AvgPoolGrad over tiling windows by a JS loop (the stock ones
 *         are per-element loops ~25× slower than a Multiply); Identity sharing its buffer (no copy)
 *   wasm: Sum over leading axes by a JS loop (the stock one transposes first)
 *   wasm: BatchMatMul of transposed matrices as Transpose + XNNPACK (the stock one loops, single-threaded)
 *   cpu:  Conv2DBackpropFilter (the stock one is ~40× slower than a forward conv)
 *   webgpu: Conv2DBackpropFilter split over the sum (the stock one took 96% of a 128² step's GPU time)
 *   webgpu: Sum and Mean over leading axes in one dispatch (the stock ones transpose first)
 *   webgpu, cpu: fused layer epilogues and their gradients (the layers use them on webgpu; the cpu ones let tests run the fused nets without a GPU)
 */
export function registerTrainingKernels(backendName: string): TrainingKernelReport {
  const added: string[] = [];
  if (tf.getGradient('Greater') === undefined) {
    registerGreaterGrad();
    added.push('gradient Greater');
  }
  if (tf.getGradient('AvgPoolGrad') === undefined) {
    registerAvgPoolGradGrad();
    added.push('gradient AvgPoolGrad');
  }
  if (!reduceGradsRegistered()) {
    registerReduceGrads();
    added.push('gradients Sum, Mean (onesLike)');
  }
  if (!elementwiseGradsRegistered()) {
    registerElementwiseGrads();
    added.push('gradients LeakyRelu, Rsqrt, Sqrt, Square (kept constants)');
  }
  if (registerAvgPoolSameGrad()) added.push("gradient AvgPool ('same' padding: border windows averaged as the forward pass does)");
  if (backendName === 'cpu' && !isOurKernel('Conv2DBackpropFilter', 'cpu')) {
    replaceKernel(makeConv2DBackpropFilterConfig('cpu'));
    added.push('cpu Conv2DBackpropFilter (as Conv2D)');
  }
  if (backendName === 'wasm' && !isOurKernel('Conv2DBackpropFilter', 'wasm')) {
    replaceKernel(makeWasmConv2DBackpropFilterConfig());
    added.push('wasm Conv2DBackpropFilter (a matMul per filter tap)');
  }
  if (backendName === 'wasm' && !isOurKernel('Conv2DBackpropInput', 'wasm')) {
    replaceKernel(makeWasmConv2DBackpropInputConfig(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc));
    added.push('wasm Conv2DBackpropInput (as Conv2D with the flipped filter)');
  }
  if (backendName === 'wasm' && !isOurKernel('DepthwiseConv2dNativeBackpropInput', 'wasm')) {
    for (const config of makeWasmDepthwiseBackpropConfigs()) replaceKernel(config);
    added.push('wasm DepthwiseConv2dNativeBackpropInput and …BackpropFilter (JS loops over the heap)');
  }
  const stockIdentity = tf.getKernel('Identity', 'wasm');
  if (backendName === 'wasm' && !isOurKernel('LeakyRelu', 'wasm') && stockIdentity !== undefined) {
    for (const config of makeWasmPointwiseConfigs(tf.getKernel('AvgPoolGrad', 'wasm')?.kernelFunc, stockIdentity.kernelFunc)) replaceKernel(config);
    added.push('wasm LeakyRelu (x · Step(x, α)), AvgPoolGrad (tiling windows: a JS loop over the heap), Identity (shares the buffer)');
  }
  if (backendName === 'wasm' && !isOurKernel('Sum', 'wasm')) {
    const sum = tf.getKernel('Sum', 'wasm');
    if (sum !== undefined) {
      replaceKernel(makeWasmLeadSumConfig(sum.kernelFunc));
      added.push('wasm Sum over leading axes (a JS loop, no transpose)');
    }
  }
  if (backendName === 'wasm' && !isOurKernel('BatchMatMul', 'wasm')) {
    const matMul = tf.getKernel('BatchMatMul', 'wasm');
    if (matMul !== undefined) {
      replaceKernel(makeWasmBatchMatMulConfig(matMul.kernelFunc));
      added.push('wasm BatchMatMul of transposed matrices (Transpose, then XNNPACK)');
    }
  }
  if (backendName === 'webgpu' && !isOurKernel('Conv2DBackpropFilter', 'webgpu')) {
    replaceKernel(makeWebGpuConv2DBackpropFilterConfig());
    added.push('webgpu Conv2DBackpropFilter (split over the sum)');
  }
  if (backendName === 'webgpu' && !isOurKernel('Sum', 'webgpu')) {
    const sum = tf.getKernel('Sum', 'webgpu');
    const mean = tf.getKernel('Mean', 'webgpu');
    if (sum !== undefined && mean !== undefined) {
      for (const config of makeWebGpuLeadSumConfigs(sum.kernelFunc, mean.kernelFunc)) replaceKernel(config);
      added.push('webgpu Sum, Mean over leading axes (one dispatch, no transpose)');
    }
  }
  if (registerFusedEpilogues(backendName)) added.push(`${backendName} fused kernels (layer epilogues, modulation and demodulation, firDown2x, broadcast, noise)`);
  return { backend: backendName, added };
}
