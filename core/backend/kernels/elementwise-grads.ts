/**
 * TF.js 4.22's gradients for Rsqrt, Sqrt and Square, the same ops in the same order, with their
 * JS-number operands (1.5, 2) as kept constants: on webgpu each number was a host tensor uploaded
 * on every call. LeakyRelu's is dy · Step(x, α), the same numbers as TF.js's where(x > 0, dy, dy · α)
 * with α an attribute (no upload; the mask's 0 and α were 36 uploads a step at 32²). Made of
 * differentiable ops as before, so second-order gradients (R1 through leakyRelu) are unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { constant } from '../constants.js';
import { isOurGradient, overrideGradient } from './reduce-grads.js';

export const leakyReluGradConfig: tf.GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { alpha } = attrs as unknown as { alpha: number };
    // dy · (1 where x > 0, else α): the products TF.js's where(x > 0, dy, dy · α) picks between, in
    // two ops instead of four (Greater against a scalar and Select were per-element loops on wasm,
    // 4 ms and 2 ms on 1M numbers; Step 0.3 ms). Step's gradient is zero, as Greater's was.
    return { x: () => tf.mul(dy as tf.Tensor, tf.step(x, alpha)) };
  },
};

export const rsqrtGradConfig: tf.GradConfig = {
  kernelName: 'Rsqrt',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.neg(tf.div(dy as tf.Tensor, tf.mul(tf.pow(x, constant(1.5)), constant(2)))) };
  },
};

export const sqrtGradConfig: tf.GradConfig = {
  kernelName: 'Sqrt',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.div(dy as tf.Tensor, tf.mul(tf.sqrt(tf.cast(x, 'float32')), constant(2))) };
  },
};

export const squareGradConfig: tf.GradConfig = {
  kernelName: 'Square',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.mul(dy as tf.Tensor, tf.mul(tf.cast(x, 'float32'), constant(2))) };
  },
};

const CONFIGS = [leakyReluGradConfig, rsqrtGradConfig, sqrtGradConfig, squareGradConfig];

export function elementwiseGradsRegistered(): boolean {
  return CONFIGS.every((c) => isOurGradient(c.kernelName));
}

/** Registers these gradients in place of TF.js's; idempotent. */
export function registerElementwiseGrads(): void {
  for (const c of CONFIGS) overrideGradient(c);
}
