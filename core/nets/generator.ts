/**
 * StyleGAN2-style generator (Karras et al. 2020, "skip" architecture):
 *   mapping:   z (and a class embedding) → normalised → MLP → w; the average w is tracked for
 *              truncation.
 *   synthesis: a learned 4×4 constant; per resolution, 2× upsample and two modulated 3×3 convs
 *              with noise, bias and leakyRelu; each resolution's toRGB (modulated 1×1, no
 *              demodulation) is added to the image so far, upsampled bilinearly ([1,3,3,1]).
 * Unlike StyleGAN2, the feature maps are upsampled nearest-neighbour before an ordinary 3×3 conv
 * (StyleGAN2: transposed conv then a [1,3,3,1] blur): on the CPU backends the blur's cost showed.
 * Channels-last; images come out in about [−1, 1], not squashed.
 */
import * as tf from '@tensorflow/tfjs';
import { blockResolutions, channelsAt, type NetConfig, numWs, resolveNetConfig } from './config.js';
import { fusedEpilogues, modAct, modActNoise } from '../backend/kernels/fused-epilogue.js';
import { freshNoiseSeed } from '../backend/kernels/gpu-noise.js';
import { assertShape, EqualDense, LRELU_ALPHA, lrelu, ModulatedConv, NoiseInput, type NoiseMode, normalize2ndMoment, SQRT2 } from './layers.js';
import { ParamStore } from './params.js';
import { upsampleBilinear2x, upsampleNearest2x } from './resample.js';

export interface GenerateOptions {
  /** Truncation ψ: w ← w_avg + ψ·(w − w_avg); 1 (default) leaves w alone, 0 gives the average. */
  psi?: number;
  /** Per-pixel noise: 'random' (default, training), 'const' (reproducible samples), 'none'. */
  noise?: NoiseMode;
  /** With noise 'random': a seed, so the same seed gives the same noise (reproducible runs). */
  noiseSeed?: number;
  /** Move the tracked average w toward this batch's mean w (training steps only); default false. */
  updateWAvg?: boolean;
}

/** One synthesis layer: modulated 3×3 conv → noise → bias → leakyRelu. */
class SynthesisLayer {
  readonly conv: ModulatedConv;
  readonly noise: NoiseInput;
  readonly bias: tf.Variable; // [out]

  constructor(store: ParamStore, name: string, wDim: number, inC: number, outC: number, res: number) {
    this.conv = new ModulatedConv(store, name, wDim, inC, outC, 3, true);
    this.noise = new NoiseInput(store, name, res);
    this.bias = store.constant(`${name}.bias`, [outC], 0);
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D, noise: NoiseMode, seed?: number): tf.Tensor4D {
    if (fusedEpilogues() && noise !== 'none') {
      // Demodulation, noise, bias, leaky ReLU and gain in one kernel; unseeded random noise made in it.
      const { y, dcoefs } = this.conv.applyUndemodulated(x, w);
      const attrs = { alpha: LRELU_ALPHA, gain: SQRT2 };
      const [d, s, b] = [dcoefs as tf.Tensor2D, this.noise.strength, this.bias as tf.Tensor1D];
      if (noise === 'random' && seed === undefined) return modActNoise(y, d, s, b, attrs, freshNoiseSeed());
      return modAct(y, d, this.noise.draw(y, noise, seed) as tf.Tensor4D, s, b, attrs);
    }
    const y = this.noise.apply(this.conv.apply(x, w), noise, seed); // [N, H, W, out]
    return lrelu(y.add(this.bias)) as tf.Tensor4D;
  }
}

/** toRGB: modulated 1×1 conv without demodulation, plus bias. */
class ToRGB {
  readonly conv: ModulatedConv;
  readonly bias: tf.Variable; // [imageChannels]

  constructor(store: ParamStore, name: string, wDim: number, inC: number, outC: number) {
    this.conv = new ModulatedConv(store, name, wDim, inC, outC, 1, false);
    this.bias = store.constant(`${name}.bias`, [outC], 0);
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D {
    return this.conv.apply(x, w).add(this.bias);
  }
}

interface SynthesisBlock {
  res: number;
  conv0?: SynthesisLayer; // absent at 4×4
  conv1: SynthesisLayer;
  torgb: ToRGB;
  /** Index into ws of conv0 (or conv1 at 4×4); conv1 and toRGB follow. */
  wIndex: number;
}

export class Generator {
  readonly config: NetConfig;
  readonly params: ParamStore;
  /** Number of per-layer w's synthesis takes (for style mixing). */
  readonly numWs: number;
  /** Tracked average w, [wDim]; not trained. */
  readonly wAvg: tf.Variable;
  private readonly embed: EqualDense | undefined;
  private readonly mappingFcs: EqualDense[] = [];
  private readonly constInput: tf.Variable; // [4, 4, C4]
  private readonly blocks: SynthesisBlock[] = [];

  constructor(config: Partial<NetConfig>) {
    const c = resolveNetConfig(config);
    this.config = c;
    this.params = new ParamStore(c.seed, 'G.');
    this.numWs = numWs(c.resolution);
    const store = this.params;

    // Mapping network.
    if (c.numClasses > 0) this.embed = new EqualDense(store, 'mapping.embed', c.numClasses, c.wDim);
    let inF = c.zDim + (c.numClasses > 0 ? c.wDim : 0);
    for (let i = 0; i < c.mappingLayers; i++) {
      this.mappingFcs.push(new EqualDense(store, `mapping.fc${i}`, inF, c.wDim, { lrMul: c.mappingLrMul, activation: 'lrelu' }));
      inF = c.wDim;
    }
    this.wAvg = store.constant('mapping.w_avg', [c.wDim], 0, false);

    // Synthesis network.
    const c4 = channelsAt(c, 4);
    this.constInput = store.normal('synthesis.b4.const', [4, 4, c4]);
    let wIndex = 0;
    for (const res of blockResolutions(c.resolution)) {
      const inC = channelsAt(c, res === 4 ? 4 : res / 2);
      const outC = channelsAt(c, res);
      const name = `synthesis.b${res}`;
      const block: SynthesisBlock = {
        res,
        conv1: new SynthesisLayer(store, `${name}.conv1`, c.wDim, res === 4 ? c4 : outC, outC, res),
        torgb: new ToRGB(store, `${name}.torgb`, c.wDim, outC, c.imageChannels),
        wIndex,
      };
      if (res > 4) block.conv0 = new SynthesisLayer(store, `${name}.conv0`, c.wDim, inC, outC, res);
      this.blocks.push(block);
      wIndex += res === 4 ? 1 : 2; // toRGB shares the next block's first w
    }
  }

  /** Trainable variables (the optimiser's varList). */
  trainableVariables(): tf.Variable[] {
    return this.params.trainable();
  }

  /** z [N, zDim] (and one-hot c [N, numClasses]) → w [N, wDim]. */
  mapping(z: tf.Tensor2D, c?: tf.Tensor2D, opts: GenerateOptions = {}): tf.Tensor2D {
    const cfg = this.config;
    return tf.tidy(() => {
      const [n] = z.shape;
      assertShape(z, [n, cfg.zDim], 'Generator z');
      let x = normalize2ndMoment(z); // [N, zDim]
      if (this.embed !== undefined) {
        if (c === undefined) throw new Error(`Generator: this network has ${cfg.numClasses} classes; a class label is required`);
        assertShape(c, [n, cfg.numClasses], 'Generator class label');
        x = tf.concat([x, normalize2ndMoment(this.embed.apply(c))], 1); // [N, zDim + wDim]
      } else if (c !== undefined) {
        throw new Error('Generator: this network is unconditional; got a class label');
      }
      for (const fc of this.mappingFcs) x = fc.apply(x); // [N, wDim]
      if (opts.updateWAvg === true) {
        const mean = x.mean(0); // [wDim]
        this.wAvg.assign(mean.add(this.wAvg.sub(mean).mul(cfg.wAvgBeta)));
      }
      const psi = opts.psi ?? 1;
      if (psi !== 1) x = this.wAvg.add(x.sub(this.wAvg).mul(psi)) as tf.Tensor2D;
      return x;
    });
  }

  /**
   * ws [N, wDim] (one w for every layer) or [N, numWs, wDim] (per layer, for style mixing) →
   * images [N, R, R, imageChannels]. `noiseSeed`: reproducible 'random' noise (layer k uses seed + k).
   */
  synthesis(ws: tf.Tensor2D | tf.Tensor3D, noise: NoiseMode = 'random', noiseSeed?: number): tf.Tensor4D {
    const cfg = this.config;
    return tf.tidy(() => {
      const [n] = ws.shape;
      const perLayer = ws.rank === 3;
      if (perLayer) assertShape(ws, [n, this.numWs, cfg.wDim], 'Generator ws');
      else assertShape(ws, [n, cfg.wDim], 'Generator w');
      const wAt = (i: number): tf.Tensor2D =>
        perLayer ? (ws as tf.Tensor3D).slice([0, i, 0], [n, 1, cfg.wDim]).reshape([n, cfg.wDim]) : (ws as tf.Tensor2D);

      let x: tf.Tensor4D = this.constInput.expandDims(0).tile([n, 1, 1, 1]) as tf.Tensor4D; // [N, 4, 4, C4]
      let img: tf.Tensor4D | undefined;
      let layer = 0;
      const seed = () => (noiseSeed === undefined ? undefined : noiseSeed + layer++);
      for (const b of this.blocks) {
        let i = b.wIndex;
        if (b.conv0 !== undefined) {
          x = upsampleNearest2x(x); // [N, res, res, Cin]
          x = b.conv0.apply(x, wAt(i++), noise, seed()); // [N, res, res, C]
        }
        x = b.conv1.apply(x, wAt(i++), noise, seed()); // [N, res, res, C]
        const rgb = b.torgb.apply(x, wAt(i)); // [N, res, res, imageChannels]
        img = img === undefined ? rgb : (upsampleBilinear2x(img).add(rgb) as tf.Tensor4D);
        assertShape(img, [n, b.res, b.res, cfg.imageChannels], `Generator image at ${b.res}²`);
      }
      return img as tf.Tensor4D;
    });
  }

  /** z (and c) → images [N, R, R, imageChannels]. */
  generate(z: tf.Tensor2D, c?: tf.Tensor2D, opts: GenerateOptions = {}): tf.Tensor4D {
    return tf.tidy(() => this.synthesis(this.mapping(z, c, opts), opts.noise ?? 'random', opts.noiseSeed));
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** One-hot labels [N, numClasses] from class indices. */
export function oneHotLabels(labels: readonly number[], numClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(labels as number[], 'int32'), numClasses).toFloat() as tf.Tensor2D);
}
