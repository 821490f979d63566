/**
 * The judges' trainable heads (the vision-aided paper's `cv` heads for CNN backbones): on each of a
 * backbone's levels, conv 3×3 → leaky ReLU → conv 1×1 → a logit map, averaged over space; on the
 * last level pooled over space, an MLP (dense → leaky ReLU → dense) → one logit. A head gives
 * logits [N, L + 1]: one per level, then the MLP's. Equalised learning rate, as D's layers.
 *
 * In a conditional run (classes > 0) the MLP's logit gets a projection onto the class, as the
 * paper's conditional heads (and StyleGAN2's D) do: + ⟨embed(c), h⟩/√hidden, where h is the MLP's
 * hidden layer and embed a learned [classes, hidden] table (equalised lr, no bias).
 */
import * as tf from '@tensorflow/tfjs';
import { constant } from '../backend/constants.js';
import { assertShape, EqualConv, EqualDense } from '../nets/layers.js';
import { ParamStore } from '../nets/params.js';

export class VisionHead {
  readonly params: ParamStore;
  private readonly convs: Array<{ hidden: EqualConv; out: EqualConv }>;
  private readonly mlp: { hidden: EqualDense; out: EqualDense };
  private readonly embed: EqualDense | null;

  /** `levels`: channels of each level (early to last); `hidden`: the heads' width; `prefix` names its parameters; `classes`: 0 unconditional. */
  constructor(
    readonly levels: readonly number[],
    readonly hidden: number,
    seed: number,
    prefix: string,
    readonly classes = 0,
  ) {
    if (levels.length === 0) throw new Error('a vision head needs at least one level');
    this.params = new ParamStore(seed, prefix);
    this.convs = levels.map((c, i) => ({
      hidden: new EqualConv(this.params, `l${i}.conv`, c, hidden, 3, { activation: 'lrelu' }),
      out: new EqualConv(this.params, `l${i}.logit`, hidden, 1, 1, { activation: 'linear' }),
    }));
    const last = levels[levels.length - 1]!;
    this.mlp = {
      hidden: new EqualDense(this.params, 'mlp.fc', last, hidden, { activation: 'lrelu' }),
      out: new EqualDense(this.params, 'mlp.logit', hidden, 1),
    };
    this.embed = classes > 0 ? new EqualDense(this.params, 'mlp.embed', classes, hidden, { bias: false }) : null;
  }

  /** Logits columns: one per level, then the MLP's. */
  get outputs(): number {
    return this.levels.length + 1;
  }

  /** Feature maps, one per level [N, h, w, C_l], and the one-hot classes c [N, classes] of a conditional head → logits [N, L + 1]. */
  apply(maps: readonly tf.Tensor4D[], c?: tf.Tensor2D): tf.Tensor2D {
    if ((this.embed !== null) !== (c !== undefined)) throw new Error(this.embed !== null ? 'a conditional vision head needs the classes' : 'an unconditional vision head takes no classes');
    if (maps.length !== this.levels.length) throw new Error(`the head takes ${this.levels.length} levels, got ${maps.length}`);
    const n = maps[0]!.shape[0];
    const cols = maps.map((m, i) => {
      assertShape(m, [n, null, null, this.levels[i]!], `vision head level ${i}`);
      const conv = this.convs[i]!;
      return conv.out.apply(conv.hidden.apply(m)).mean([1, 2]) as tf.Tensor2D; // [N, 1]: the logit map averaged over space
    });
    const pooled = maps[maps.length - 1]!.mean([1, 2]) as tf.Tensor2D; // [N, C_last]
    const h = this.mlp.hidden.apply(pooled); // [N, hidden]
    let logit = this.mlp.out.apply(h); // [N, 1]
    if (this.embed !== null) logit = logit.add(this.embed.apply(c!).mul(h).sum(1, true).mul(constant(1 / Math.sqrt(this.hidden))));
    cols.push(logit);
    return tf.concat(cols, 1) as tf.Tensor2D; // [N, L + 1]
  }

  dispose(): void {
    for (const p of this.params.all()) p.variable.dispose();
  }
}
