/**
 * A network's weights as named `tf.Variable`s: listed in creation order, so they can be saved,
 * restored and handed to `optimizer.minimize(f, true, varList)` exactly. Initial values come from
 * a seed and the parameter's name, so the same config and seed give the same network on any
 * backend, whatever order the layers are built in.
 */
import * as tf from '@tensorflow/tfjs';

export interface NamedVariable {
  name: string;
  variable: tf.Variable;
  /** Updated by the optimiser (false: state such as the tracked average w or fixed noise). */
  trainable: boolean;
}

/** FNV-1a of the name, mixed with the seed: a stable per-parameter seed. */
function seedFor(name: string, seed: number): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class ParamStore {
  private readonly entries: NamedVariable[] = [];
  private readonly byName = new Map<string, NamedVariable>();

  /** `seed`: initial values; `prefix`: prepended to every name ('G.', 'D.'). */
  constructor(
    readonly seed: number,
    readonly prefix = '',
  ) {}

  private add(name: string, initial: tf.Tensor, trainable: boolean): tf.Variable {
    const full = this.prefix + name;
    if (this.byName.has(full)) throw new Error(`parameter ${full} defined twice`);
    // TF.js variable names are process-global; leave them generated and keep ours here.
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    const entry = { name: full, variable, trainable };
    this.entries.push(entry);
    this.byName.set(full, entry);
    return variable;
  }

  /** Normal(0, std²) values. */
  normal(name: string, shape: number[], std = 1, trainable = true): tf.Variable {
    const seed = seedFor(this.prefix + name, this.seed);
    return this.add(name, tf.tidy(() => tf.randomNormal(shape, 0, std, 'float32', seed)), trainable);
  }

  /** Every value `value`. */
  constant(name: string, shape: number[], value: number, trainable = true): tf.Variable {
    return this.add(name, tf.fill(shape, value), trainable);
  }

  /** Everything, trainable or not, in creation order (for checkpoints). */
  all(): readonly NamedVariable[] {
    return this.entries;
  }

  /** The optimiser's variable list. */
  trainable(): tf.Variable[] {
    return this.entries.filter((e) => e.trainable).map((e) => e.variable);
  }

  get(name: string): tf.Variable {
    const entry = this.byName.get(this.prefix + name) ?? this.byName.get(name);
    if (entry === undefined) throw new Error(`no parameter ${name}`);
    return entry.variable;
  }

  /** Number of trainable scalars. */
  countTrainable(): number {
    return this.trainable().reduce((n, v) => n + v.size, 0);
  }

  dispose(): void {
    for (const e of this.entries) e.variable.dispose();
    this.entries.length = 0;
    this.byName.clear();
  }
}
