/**
 * Adam (Kingma & Ba 2015) as PyTorch computes it, with its state in the open: the moments are
 * named after the parameters they belong to and the step count is a plain number, so a checkpoint
 * restores them exactly. (tf.train.adam keeps β^t as a float32 running product and rebuilds it
 * with pow() on restore: a resumed run would drift from an uninterrupted one.)
 *
 *   m ← β1·m + (1 − β1)·g        v ← β2·v + (1 − β2)·g²
 *   p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)          (bias corrections in float64)
 *
 * It is a tf.Optimizer, so `minimize(f, true, varList)` works as usual. On webgpu the update is
 * one fused dispatch per variable, in place, with the hyperparameters as uniforms
 * (core/backend/kernels/webgpu-adam.ts); elsewhere, the tensor ops below.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedAdamAvailable, fusedAdamUpdate } from '../backend/kernels/webgpu-adam.js';
import type { NamedVariable } from '../nets/params.js';

export interface AdamOptions {
  /** Learning rate; default 0.0025 (StyleGAN2-ADA at ≤ 256²). */
  lr?: number;
  /** First-moment decay; default 0 (StyleGAN2). */
  beta1?: number;
  /** Second-moment decay; default 0.99 (StyleGAN2). */
  beta2?: number;
  /** Added to the denominator; default 1e-8. */
  epsilon?: number;
}

interface Slot {
  param: NamedVariable;
  m: tf.Variable;
  v: tf.Variable;
}

export class Adam extends tf.Optimizer {
  static get className(): string {
    return 'AtelierAdam';
  }

  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly slots: Slot[];
  /** TF.js variable name → slot (gradients arrive keyed by it). */
  private readonly byVariable = new Map<string, Slot>();

  /** `params`: the parameters this optimiser may update (moments are made for each, now). */
  constructor(params: readonly NamedVariable[], opts: AdamOptions = {}) {
    super();
    this.lr = opts.lr ?? 0.0025;
    this.beta1 = opts.beta1 ?? 0;
    this.beta2 = opts.beta2 ?? 0.99;
    this.epsilon = opts.epsilon ?? 1e-8;
    this.iterations_ = 0;
    const zeros = (like: tf.Variable): tf.Variable => {
      const z = tf.zerosLike(like);
      const variable = tf.variable(z, false);
      z.dispose();
      return variable;
    };
    this.slots = params.map((param) => ({ param, m: zeros(param.variable), v: zeros(param.variable) }));
    for (const s of this.slots) this.byVariable.set(s.param.variable.name, s);
  }

  /** Steps taken (t). */
  get step(): number {
    return this.iterations;
  }

  /** The variables this optimiser updates, in order (the varList for `minimize`). */
  variables(): tf.Variable[] {
    return this.slots.map((s) => s.param.variable);
  }

  applyGradients(variableGradients: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>): void {
    const grads: Array<[string, tf.Tensor | undefined]> = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const t = this.iterations + 1;
    const stepSize = this.lr / (1 - this.beta1 ** t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - this.beta2 ** t);
    if (fusedAdamAvailable()) {
      const slots: Slot[] = [];
      const tensors: tf.Tensor[] = [];
      for (const [name, g] of grads) {
        if (g === undefined || g === null) continue; // not reached by the loss: left alone, as PyTorch does
        const slot = this.byVariable.get(name);
        if (slot === undefined) throw new Error(`Adam: got a gradient for a variable it was not given (${name})`);
        slots.push(slot);
        tensors.push(g);
      }
      const update = slots.map((s) => ({ param: s.param.variable, m: s.m, v: s.v }));
      fusedAdamUpdate(update, tensors, { stepSize, invSqrtBc2, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon });
      this.incrementIterations();
      return;
    }
    tf.tidy(() => {
      for (const [name, g] of grads) {
        if (g === undefined || g === null) continue; // not reached by the loss: left alone, as PyTorch does
        const slot = this.byVariable.get(name);
        if (slot === undefined) throw new Error(`Adam: got a gradient for a variable it was not given (${name})`);
        const m = slot.m.mul(this.beta1).add(g.mul(1 - this.beta1));
        const v = slot.v.mul(this.beta2).add(g.square().mul(1 - this.beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        const denom = v.sqrt().mul(invSqrtBc2).add(this.epsilon);
        slot.param.variable.assign(slot.param.variable.sub(m.div(denom).mul(stepSize)));
      }
    });
    this.incrementIterations();
  }

  /** Moments as named tensors for a checkpoint: `${prefix}/m/${param}` and `${prefix}/v/${param}`. */
  namedMoments(prefix: string): Array<{ name: string; tensor: tf.Tensor }> {
    return this.slots.flatMap((s) => [
      { name: `${prefix}/m/${s.param.name}`, tensor: s.m },
      { name: `${prefix}/v/${s.param.name}`, tensor: s.v },
    ]);
  }

  /** Sets the step count (from a checkpoint; the moments are restored through `namedMoments`). */
  setStep(t: number): void {
    if (!Number.isInteger(t) || t < 0) throw new Error(`Adam: step must be a whole number ≥ 0, got ${t}`);
    this.iterations_ = t;
  }

  getConfig(): tf.serialization.ConfigDict {
    return { lr: this.lr, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  override dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.length = 0;
    this.byVariable.clear();
  }
}
