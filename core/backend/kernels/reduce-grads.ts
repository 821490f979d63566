/**
 * Gradients for `Sum` and `Mean` that broadcast dy with `onesLike(x)` (a fill on the device)
 * instead of TF.js 4.22's `ones(x.shape)`, a host-made array uploaded on every call: on webgpu the
 * ΣW² of each demodulated conv alone uploaded 3.3 MB per step that way. Same values (dy · 1 and
 * dy · 1 / n, the divisor a kept constant); both are made of differentiable ops, so second-order
 * gradients (R1) go through them as before. Where the fused kernels are on (webgpu), the broadcast
 * and the 1/n are one kernel instead (core/backend/kernels/broadcast.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { constant } from '../constants.js';
import { broadcastScaled } from './broadcast.js';
import { fusedEpilogues } from './fused-epilogue.js';

const OURS = Symbol.for('gan-atelier.reduce-grad');

function expandedDy(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): { dy: tf.Tensor; reduceSize: number } {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.slice();
  let reduceSize = 1;
  for (const a of axes) {
    reduceSize *= shape[a] as number;
    shape[a] = 1;
  }
  return { dy: dy.reshape(shape), reduceSize };
}

export const sumGradConfig: tf.GradConfig = {
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { axis } = attrs as unknown as { axis: number | number[] };
    return {
      x: () => {
        const e = expandedDy(dy as tf.Tensor, x, axis).dy;
        return fusedEpilogues() && x.rank > 0 ? broadcastScaled(e, x.shape, 1) : e.mul(tf.onesLike(x));
      },
    };
  },
};

export const meanGradConfig: tf.GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const { axis } = attrs as unknown as { axis: number | number[] };
    return {
      x: () => {
        const e = expandedDy(dy as tf.Tensor, x, axis);
        if (fusedEpilogues() && x.rank > 0) return broadcastScaled(e.dy, x.shape, 1 / e.reduceSize);
        return e.dy.mul(tf.onesLike(x)).div(constant(e.reduceSize));
      },
    };
  },
};

/** True when the registered gradient for `kernelName` is one of ours. */
export function isOurGradient(kernelName: string): boolean {
  const g = tf.getGradient(kernelName);
  return g !== undefined && OURS in g;
}

/** True when Sum's and Mean's registered gradients are these. */
export function reduceGradsRegistered(): boolean {
  return isOurGradient('Sum') && isOurGradient('Mean');
}

/**
 * Puts `ours` in place of TF.js's gradient for its kernel (in the registered config, so TF.js
 * does not warn about an override); idempotent.
 */
export function overrideGradient(ours: tf.GradConfig): void {
  const existing = tf.getGradient(ours.kernelName) as (tf.GradConfig & { [OURS]?: true }) | undefined;
  if (existing === undefined) {
    tf.registerGradient(ours);
    Object.defineProperty(ours, OURS, { value: true });
  } else if (!(OURS in existing)) {
    existing.inputsToSave = ours.inputsToSave;
    existing.gradFunc = ours.gradFunc;
    Object.defineProperty(existing, OURS, { value: true });
  }
}

/** Registers Sum's and Mean's gradients; idempotent. */
export function registerReduceGrads(): void {
  for (const ours of [sumGradConfig, meanGradConfig]) overrideGradient(ours);
}
