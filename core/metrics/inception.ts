/**
 * Feature extractors for the metrics: a pretrained network that maps an image to one vector.
 *
 * The default is the InceptionV3 the `nsfwjs` package ships inside itself (a Keras layers model,
 * 299² RGB in [0, 1], uint8-quantised weights, fine-tuned by nsfwjs to tell five kinds of picture
 * apart): its last mixed block (mixed10, 8 × 8 × 2048) averaged over space gives 2048 features per
 * image. It is read from the package's files on disk — never fetched. These are NOT the reference
 * TF-Inception weights that papers' FID and KID use: the numbers compare runs within the studio,
 * not with published results. A TF.js conversion of the standard FID Inception (output: the
 * 2048-d pool features) can be named instead to get comparable numbers.
 *
 * An extractor holds ~90 MB of weights: load it for an evaluation and dispose of it after.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../api/errors.js';
import { readFloatsAndDispose } from '../backend/read.js';
import type { BundledFeatures } from '../api/contract.js';
import { bundledExtractorId, bundledModelFiles, bundledTitle, type CustomExtractorSpec, MOBILENET_SIZE } from './extractor-info.js';

export { bundledExtractorId, bundledModelFiles, type CustomExtractorSpec } from './extractor-info.js';

/** Features per image of the FID Inception (pool3) and of the bundled InceptionV3 (mixed10, averaged). */
export const FEATURE_DIM = 2048;

export interface FeatureExtractor {
  /** Names the exact weights: features of different extractors never mix (the dataset cache is keyed by it). */
  readonly id: string;
  /** For people and reports. */
  readonly title: string;
  /** True when the user named it as the standard FID Inception (numbers comparable with papers). */
  readonly reference: boolean;
  readonly dim: number;
  /** Side of the square the images are resized to. */
  readonly inputSize: number;
  /**
   * Features of `count` images [count, R, R, C] uint8 (C = 1 or 3), in batches; `shouldStop`
   * is asked between batches (null: it stopped, features of the batches done are dropped).
   */
  extract(images: ImageBatch, o?: ExtractOptions): Promise<Float32Array | null>;
  dispose(): void;
}

export interface ImageBatch {
  pixels: Uint8Array;
  count: number;
  resolution: number;
  channels: number;
}

export interface ExtractOptions {
  /** Images per forward pass; default 8 (the fastest per image on wasm, and ~0.5 GB at most). */
  batch?: number;
  shouldStop?: () => boolean;
  /** After each batch: images done. */
  onProgress?: (done: number) => void;
}

/** How images become the network's input. */
interface Preprocess {
  size: number;
  /** Pixels 0…255 map linearly onto [lo, hi]. */
  range: [number, number];
  alignCorners: boolean;
}

/** Runs `features` on batches; keeps no tensors between calls. */
class TfExtractor implements FeatureExtractor {
  constructor(
    readonly id: string,
    readonly title: string,
    readonly reference: boolean,
    readonly dim: number,
    private readonly pre: Preprocess,
    /** [N, S, S, 3] → [N, dim]. */
    private readonly features: (x: tf.Tensor4D) => tf.Tensor2D,
    private readonly release: () => void,
  ) {}

  get inputSize(): number {
    return this.pre.size;
  }

  async extract(images: ImageBatch, o: ExtractOptions = {}): Promise<Float32Array | null> {
    const { count, resolution: r, channels: c } = images;
    if (images.pixels.length !== count * r * r * c) throw new Error(`extract: ${images.pixels.length} bytes are not ${count} images of ${r}²×${c}`);
    const batch = Math.max(1, o.batch ?? 8);
    const out = new Float32Array(count * this.dim);
    for (let start = 0; start < count; start += batch) {
      if (o.shouldStop?.()) return null;
      const n = Math.min(batch, count - start);
      const f = tf.tidy(() => {
        const x = tf.tensor4d(images.pixels.subarray(start * r * r * c, (start + n) * r * r * c), [n, r, r, c], 'int32');
        return this.features(toInput(x, this.pre));
      });
      out.set(await readFloatsAndDispose(f), start * this.dim);
      o.onProgress?.(start + n);
      // Let IPC messages (pause, stop) in between batches.
      await new Promise<void>((res) => setImmediate(res));
    }
    return out;
  }

  dispose(): void {
    this.release();
  }
}

/** uint8 images [N, R, R, C] → the network's input [N, S, S, 3]. */
export function toInput(x: tf.Tensor4D, pre: Preprocess): tf.Tensor4D {
  return tf.tidy(() => {
    const [lo, hi] = pre.range;
    let y = x.toFloat().mul((hi - lo) / 255).add(lo) as tf.Tensor4D;
    if (y.shape[3] === 1) y = y.tile([1, 1, 1, 3]);
    if (y.shape[1] !== pre.size || y.shape[2] !== pre.size) y = tf.image.resizeBilinear(y, [pre.size, pre.size], pre.alignCorners);
    return y;
  });
}

// -------------------------------------------------------------------------------------------
// The bundled InceptionV3 (nsfwjs).

/**
 * Evaluates one of nsfwjs's `.min.js` bundles (a UMD module whose export is the model JSON or a
 * base64 weight shard) in an empty context: nothing reaches this process's globals or module cache.
 */
async function readBundle(path: string): Promise<unknown> {
  let code: string;
  try {
    code = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError('unavailable', `The bundled InceptionV3 file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Reinstall the studio (npm install).`);
  }
  const module = { exports: {} as unknown };
  runInNewContext(code, { module, exports: module.exports }, { filename: path });
  return module.exports;
}

export interface BundledInception extends FeatureExtractor {
  /** The five nsfwjs class probabilities of each image (the package's own head): checks the weights. */
  classify(images: ImageBatch): Promise<Float32Array>;
}

/** nsfwjs's class names, by output index. */
export const NSFW_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;

/** Loads the InceptionV3 shipped in nsfwjs from disk (about a second) into the current backend. */
export async function loadBundledInception(): Promise<BundledInception> {
  const { dir } = bundledModelFiles();
  // Cross the context boundary as plain JSON.
  const json = JSON.parse(JSON.stringify(await readBundle(join(dir, 'model.min.js')))) as {
    modelTopology: object;
    weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  };
  const group = json.weightsManifest[0];
  if (!json.modelTopology || !group) throw new UserError('corrupt', `${join(dir, 'model.min.js')} is not the InceptionV3 model nsfwjs ships. Reinstall the studio (npm install).`);
  const shards = await Promise.all(group.paths.map(async (p) => Buffer.from((await readBundle(join(dir, `${p}.min.js`))) as string, 'base64')));
  const weights = Buffer.concat(shards);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }),
  );
  const mixed10 = tf.model({ inputs: model.inputs, outputs: model.getLayer('mixed10').output as tf.SymbolicTensor });
  // nsfwjs feeds pixels / 255, resized bilinearly with aligned corners (its `infer`).
  const pre: Preprocess = { size: 299, range: [0, 1], alignCorners: true };
  const extractor = new TfExtractor(
    bundledExtractorId(),
    bundledTitle(),
    false,
    FEATURE_DIM,
    pre,
    (x) => (mixed10.predict(x) as tf.Tensor4D).mean([1, 2]) as tf.Tensor2D, // [N, 8, 8, 2048] → [N, 2048]
    // The sub-model shares the full model's layers: disposing the full model frees every weight.
    () => model.dispose(),
  );
  return Object.assign(extractor, {
    async classify(images: ImageBatch): Promise<Float32Array> {
      const { count, resolution: r, channels: c } = images;
      const probs = tf.tidy(() => model.predict(toInput(tf.tensor4d(images.pixels, [count, r, r, c], 'int32'), pre)) as tf.Tensor2D);
      return readFloatsAndDispose(probs);
    },
  });
}

// -------------------------------------------------------------------------------------------
// The bundled MobileNetV2 (nsfwjs): the quick extractor for CPU backends.

/** Features per image of MobileNetV2's last block (out_relu, averaged over space). */
export const MOBILENET_DIM = 1280;

/**
 * Loads the MobileNetV2 shipped in nsfwjs (3.5 MB, a fraction of a second) cut at its last
 * convolutional block (out_relu: [N, S/32, S/32, 1280], averaged over space → 1280 features) and
 * taking `MOBILENET_SIZE`² images: the network is convolutional up to there, so its input side is
 * free (the stored topology's 224² and its pooling/dense head are dropped).
 */
export async function loadBundledMobileNet(size = MOBILENET_SIZE): Promise<FeatureExtractor> {
  const { dir } = bundledModelFiles('mobilenet');
  const json = JSON.parse(JSON.stringify(await readBundle(join(dir, 'model.min.js')))) as {
    modelTopology: { model_config?: { config: KerasConfig }; config?: KerasConfig };
    weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  };
  const config = json.modelTopology?.model_config?.config ?? json.modelTopology?.config;
  const group = json.weightsManifest?.[0];
  const cut = config?.layers.findIndex((l) => l.name === 'out_relu') ?? -1;
  if (!config || !group || cut < 0) throw new UserError('corrupt', `${join(dir, 'model.min.js')} is not the MobileNetV2 model nsfwjs ships. Reinstall the studio (npm install).`);
  // Keep the layers up to out_relu, make it the output, and take size² images.
  config.layers = config.layers.slice(0, cut + 1);
  config.output_layers = [['out_relu', 0, 0]];
  const input = config.layers[0]!;
  input.config['batch_input_shape'] = [null, size, size, 3];
  const kept = new Set(config.layers.map((l) => l.name));
  const weightSpecs = group.weights;
  const shards = await Promise.all(group.paths.map(async (p) => Buffer.from((await readBundle(join(dir, `${p}.min.js`))) as string, 'base64')));
  const all = Buffer.concat(shards);
  // The head's weights are dropped: only the kept layers' are named in the manifest given to TF.js.
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  for (const w of weightSpecs) {
    const bytes = weightBytes(w);
    if (kept.has(w.name.split('/')[0]!)) {
      specs.push(w);
      parts.push(all.subarray(offset, offset + bytes));
    }
    offset += bytes;
  }
  if (offset !== all.length) throw new UserError('corrupt', `The MobileNetV2 weights in ${dir} are not the size their manifest says. Reinstall the studio (npm install).`);
  const data = Buffer.concat(parts);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) }),
  );
  // As nsfwjs feeds it: pixels / 255, resized bilinearly with aligned corners.
  const pre: Preprocess = { size, range: [0, 1], alignCorners: true };
  return new TfExtractor(bundledExtractorId('mobilenet'), bundledTitle('mobilenet'), false, MOBILENET_DIM, pre, (x) => (model.predict(x) as tf.Tensor4D).mean([1, 2]) as tf.Tensor2D, () => model.dispose());
}

interface KerasConfig {
  layers: Array<{ name: string; class_name: string; config: Record<string, unknown> }>;
  output_layers: Array<[string, number, number]>;
}

/** Bytes of one weight in a manifest (float32 or quantised). */
function weightBytes(w: tf.io.WeightsManifestEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (w.quantization) return n * (w.quantization.dtype === 'uint8' ? 1 : w.quantization.dtype === 'float16' ? 2 : 2);
  return n * (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : w.dtype === 'bool' ? 1 : 4);
}

// -------------------------------------------------------------------------------------------
// A user's TF.js model (the standard FID Inception, converted).

/** Loads a TF.js layers or graph model from disk and checks that it gives 2048 features per image. */
export async function loadCustomExtractor(spec: CustomExtractorSpec): Promise<FeatureExtractor> {
  const path = resolve(spec.path);
  const what = `The feature extractor ${path}`;
  const fix = 'Point the studio at the model.json of a TF.js conversion of the FID Inception (its output: the 2048 pool features), or go back to the bundled one.';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError('not-found', `${what} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). ${fix}`, path);
  }
  let json: { format?: string; modelTopology?: { node?: unknown }; weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new UserError('invalid-request', `${what} is not JSON, so not a TF.js model.json. ${fix}`, path);
  }
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new UserError('invalid-request', `${what} has no modelTopology or weightsManifest: it is not a TF.js model.json. ${fix}`, path);
  }
  const dir = dirname(path);
  const hash = createHash('sha256').update(text);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const file = join(dir, p);
      try {
        const b = await readFile(file);
        hash.update(b);
        buffers.push(b);
      } catch (err) {
        throw new UserError('not-found', `${what} names the weight file ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Keep the model.json beside its weight files.`, file);
      }
    }
    weightSpecs.push(...group.weights);
  }
  const all = Buffer.concat(buffers);
  const artifacts: tf.io.ModelArtifacts = { modelTopology: json.modelTopology, weightSpecs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
  if (json.format !== undefined) artifacts.format = json.format;
  const graph = json.format === 'graph-model' || json.modelTopology.node !== undefined;

  let predict: (x: tf.Tensor4D) => tf.Tensor;
  let release: () => void;
  let inputShape: Array<number | null> | undefined;
  try {
    if (graph) {
      const m = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
      predict = (x) => m.predict(x) as tf.Tensor;
      release = () => m.dispose();
      inputShape = m.inputs[0]?.shape;
    } else {
      const m = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      predict = (x) => m.predict(x) as tf.Tensor;
      release = () => m.dispose();
      inputShape = m.inputs[0]?.shape;
    }
  } catch (err) {
    throw new UserError('invalid-request', `${what} did not load as a TF.js model: ${(err as Error).message.split('\n')[0]}. ${fix}`, path);
  }
  const size = typeof inputShape?.[1] === 'number' && inputShape[1] > 0 ? inputShape[1] : 299;
  if (inputShape !== undefined && inputShape.length === 4 && typeof inputShape[3] === 'number' && inputShape[3] !== 3) {
    release();
    throw new UserError('invalid-request', `${what} takes images with ${inputShape[3]} channels; the FID Inception takes RGB (3). ${fix}`, path);
  }
  const pre: Preprocess = { size, range: spec.inputRange, alignCorners: false };
  /** [N, …] → [N, dim]: spatial dimensions of size 1 dropped, a feature map averaged over space. */
  const flatten = (y: tf.Tensor): tf.Tensor2D => (y.rank === 4 ? (y.mean([1, 2]) as tf.Tensor2D) : y.reshape([y.shape[0]!, -1]));

  // Run one image to learn the output's size.
  let dim: number;
  try {
    const probe = tf.tidy(() => flatten(predict(tf.zeros([1, size, size, 3]))));
    dim = probe.shape[1];
    probe.dispose();
  } catch (err) {
    release();
    throw new UserError('invalid-request', `${what} failed on a ${size}² image: ${(err as Error).message.split('\n')[0]}. ${fix}`, path);
  }
  if (dim !== FEATURE_DIM) {
    release();
    throw new UserError('invalid-request', `${what} gives ${dim} values per image, not the ${FEATURE_DIM} pool features of the FID Inception. ${fix}`, path);
  }
  const id = `custom-${hash.digest('hex').slice(0, 16)}/range-${spec.inputRange.join(',')}`;
  return new TfExtractor(id, `Your feature extractor ${path}`, true, dim, pre, (x) => flatten(predict(x)), release);
}

/** The extractor a run or an evaluation names: the user's, else the bundled one it picked (InceptionV3 by default). */
export async function loadExtractor(custom: CustomExtractorSpec | null, features: BundledFeatures = 'inception'): Promise<FeatureExtractor> {
  if (custom) return loadCustomExtractor(custom);
  return features === 'mobilenet' ? loadBundledMobileNet() : loadBundledInception();
}
