/**
 * StyleGAN2-style residual discriminator:
 *   fromRGB (1×1) at full resolution; per resolution R … 8 a residual block
 *     main: conv 3×3 → 2× downsample → conv 3×3 (×√½);   skip: 2× downsample → 1×1 (×√½)
 *   epilogue at 4×4: minibatch stddev → conv 3×3 → dense → dense to one logit, or, with classes,
 *   projection conditioning (Miyato & Koyama 2018, as StyleGAN2-ADA): the last dense gives a
 *   cmapDim vector whose dot product with the class embedding, /√cmapDim, is the logit.
 * Downsampling is 2×2 average pooling, then the conv at the lower resolution (StyleGAN2: a
 * [1, 3, 3, 1] blur, then a stride-2 conv).
 */
import * as tf from '@tensorflow/tfjs';
import { constant } from '../backend/constants.js';
import { fusedEpilogues } from '../backend/kernels/fused-epilogue.js';
import { blockResolutions, channelsAt, type NetConfig, resolveNetConfig } from './config.js';
import { assertShape, EqualConv, EqualDense, minibatchStd, normalize2ndMoment } from './layers.js';
import { ParamStore } from './params.js';
import { downsampleBox2x } from './resample.js';

const SQRT_HALF = Math.SQRT1_2;

interface DiscriminatorBlock {
  res: number;
  fromRGB?: EqualConv; // only at full resolution
  conv0: EqualConv; // [res] tmp → tmp
  conv1: EqualConv; // [res/2] tmp → out
  skip: EqualConv; // [res/2] in → out, 1×1, linear, no bias
}

export class Discriminator {
  readonly config: NetConfig;
  readonly params: ParamStore;
  /** Size of the projection embedding (0: unconditional). */
  readonly cmapDim: number;
  private readonly blocks: DiscriminatorBlock[] = [];
  private readonly epilogueConv: EqualConv;
  private readonly fc: EqualDense;
  private readonly out: EqualDense;
  private readonly embed: EqualDense | undefined;

  constructor(config: Partial<NetConfig>) {
    const c = resolveNetConfig(config);
    this.config = c;
    this.params = new ParamStore(c.seed + 1, 'D.');
    const store = this.params;

    for (const res of blockResolutions(c.resolution).reverse()) {
      if (res === 4) continue;
      const inC = channelsAt(c, res);
      const outC = channelsAt(c, res / 2);
      const name = `b${res}`;
      const block: DiscriminatorBlock = {
        res,
        conv0: new EqualConv(store, `${name}.conv0`, inC, inC, 3),
        conv1: new EqualConv(store, `${name}.conv1`, inC, outC, 3, { gain: SQRT_HALF }),
        skip: new EqualConv(store, `${name}.skip`, inC, outC, 1, { bias: false, activation: 'linear', gain: SQRT_HALF }),
      };
      if (res === c.resolution) block.fromRGB = new EqualConv(store, `${name}.fromrgb`, c.imageChannels, inC, 1);
      this.blocks.push(block);
    }

    const c4 = channelsAt(c, 4);
    this.cmapDim = c.numClasses > 0 ? (c.cmapDim > 0 ? c.cmapDim : c4) : 0;
    this.epilogueConv = new EqualConv(store, 'b4.conv', c4 + c.mbstdChannels, c4, 3);
    this.fc = new EqualDense(store, 'b4.fc', c4 * 16, c4, { activation: 'lrelu' });
    this.out = new EqualDense(store, 'b4.out', c4, this.cmapDim > 0 ? this.cmapDim : 1);
    if (c.numClasses > 0) this.embed = new EqualDense(store, 'mapping.embed', c.numClasses, this.cmapDim);
  }

  trainableVariables(): tf.Variable[] {
    return this.params.trainable();
  }

  /** Images [N, R, R, imageChannels] (and one-hot c [N, numClasses]) → logits [N, 1]. */
  apply(img: tf.Tensor4D, c?: tf.Tensor2D): tf.Tensor2D {
    const cfg = this.config;
    return tf.tidy(() => {
      const [n] = img.shape;
      assertShape(img, [n, cfg.resolution, cfg.resolution, cfg.imageChannels], 'Discriminator images');
      let x: tf.Tensor4D = img;
      for (const b of this.blocks) {
        if (b.fromRGB !== undefined) x = b.fromRGB.apply(x); // [N, res, res, C]
        const down = downsampleBox2x(x); // [N, res/2, res/2, C]
        const main = downsampleBox2x(b.conv0.apply(x)); // [N, res/2, res/2, C]
        if (fusedEpilogues()) {
          x = b.conv1.apply(main, b.skip.asResidual(down)); // the skip added in conv1's epilogue
        } else {
          x = b.skip.apply(down).add(b.conv1.apply(main)); // [N, res/2, res/2, Cout]
        }
        assertShape(x, [n, b.res / 2, b.res / 2, channelsAt(cfg, b.res / 2)], `Discriminator features at ${b.res / 2}²`);
      }

      // Epilogue at 4×4.
      const c4 = channelsAt(cfg, 4);
      x = minibatchStd(x, cfg.mbstdGroupSize, cfg.mbstdChannels); // [N, 4, 4, C4 + F]
      x = this.epilogueConv.apply(x); // [N, 4, 4, C4]
      const flat = x.reshape([n, 16 * c4]) as tf.Tensor2D; // [N, 16·C4]
      const out = this.out.apply(this.fc.apply(flat)); // [N, cmapDim | 1]
      if (this.embed === undefined) {
        if (c !== undefined) throw new Error('Discriminator: this network is unconditional; got a class label');
        return out;
      }
      if (c === undefined) throw new Error(`Discriminator: this network has ${cfg.numClasses} classes; a class label is required`);
      assertShape(c, [n, cfg.numClasses], 'Discriminator class label');
      const cmap = normalize2ndMoment(this.embed.apply(c)); // [N, cmapDim]
      return out.mul(cmap).sum(1, true).mul(constant(1 / Math.sqrt(this.cmapDim))) as tf.Tensor2D; // [N, 1]
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
