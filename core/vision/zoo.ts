/**
 * The judges' backbones: pretrained networks that npm packages ship, read from the installed
 * package on disk (never downloaded), frozen, and cut at the feature maps the heads read ("levels").
 *
 * What ships and lets TF.js take gradients to the input (issue 16's survey): nsfwjs' three models,
 * each fine-tuned by nsfwjs from ImageNet weights to tell five kinds of picture apart (licence MIT,
 * training data ImageNet then nsfwjs' ~60k-image set); and, when the optional @vladmandic/human
 * package is installed, its CenterNet object detector on MobileNetV3 (COCO; fp16 weights), the
 * paper's `det_coco` analogue.
 *
 * Loading patches the topologies where TF.js needs it:
 *  - every model: the input's batch and spatial sizes are freed (the graph model fixes 224², the
 *    Keras ones 224² / 299²), so a judge can run at a smaller input on a CPU;
 *  - Keras models: layers after the last level are dropped (their pooling and dense layers fix the size);
 *  - InceptionV3: BatchNormalization with `scale: false` has no gradient in TF.js 4.22 ("Cannot read
 *    properties of undefined (reading 'dataId')"); it is loaded as `scale: true` with `strict: false`,
 *    so gamma is 1, which is what `scale: false` means.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../api/errors.js';
import type { BackboneId, BackboneInfo } from '../api/vision.js';
import { BACKBONE_INFOS, backboneInfo } from './catalogue.js';

export type { BackboneId } from '../api/vision.js';

/** One feature map a head reads. */
export interface LevelSpec {
  /** Node (graph model) or layer (Keras model) name. */
  node: string;
  channels: number;
  /** The map's side at a 224² input (÷ 224 × input for others, rounded up). */
  strideAt224: number;
}

/** How the studio loads and cuts a backbone, beside what it shows people (catalogue.ts: id, title, licence, training data, native input). */
export interface BackboneSpec extends BackboneInfo {
  /** Where its files are: nsfwjs' folder under dist/models (UMD bundles), or a model.json in @vladmandic/human's models/. */
  source: { package: 'nsfwjs'; folder: string } | { package: '@vladmandic/human'; file: string };
  kind: 'graph' | 'layers';
  /** The smallest input its strides and pads take. */
  minInput: number;
  /** Feature maps from early to last; the last is pooled for the probe and the MLP. */
  levels: LevelSpec[];
  /** Input range after area resizing: every nsfwjs model takes [0, 1] (the graph model rescales inside); CenterNet 0–255. */
  range: [number, number];
  /** The largest input worth running (CenterNet: ≤ 256² on a CPU). */
  maxInput: number;
}

const MV2_MID = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/';

export const BACKBONES: readonly BackboneSpec[] = [
  {
    ...backboneInfo('mobilenetv2'),
    source: { package: 'nsfwjs', folder: 'mobilenet_v2_mid' },
    kind: 'graph',
    minInput: 32,
    levels: [
      { node: `${MV2_MID}expanded_conv_12/add`, channels: 136, strideAt224: 16 },
      { node: `${MV2_MID}Conv_1/Relu6`, channels: 1792, strideAt224: 32 },
    ],
    range: [0, 1],
    maxInput: 299,
  },
  {
    ...backboneInfo('mobilenetv2-1.0'),
    source: { package: 'nsfwjs', folder: 'mobilenet_v2' },
    kind: 'layers',
    minInput: 32,
    levels: [
      { node: 'block_12_add', channels: 96, strideAt224: 16 },
      { node: 'out_relu', channels: 1280, strideAt224: 32 },
    ],
    range: [0, 1],
    maxInput: 299,
  },
  {
    ...backboneInfo('inception'),
    source: { package: 'nsfwjs', folder: 'inception_v3' },
    kind: 'layers',
    minInput: 75,
    levels: [
      { node: 'mixed2', channels: 288, strideAt224: 8 },
      { node: 'mixed7', channels: 768, strideAt224: 16 },
      { node: 'mixed10', channels: 2048, strideAt224: 32 },
    ],
    range: [0, 1],
    maxInput: 299,
  },
  {
    ...backboneInfo('centernet'),
    source: { package: '@vladmandic/human', file: 'centernet.json' },
    kind: 'graph',
    minInput: 32,
    levels: [
      { node: 'tower_0/MobilenetV3/expanded_conv_11/add', channels: 88, strideAt224: 16 },
      { node: 'tower_0/MobilenetV3/expanded_conv_14/add', channels: 120, strideAt224: 32 },
    ],
    range: [0, 255],
    maxInput: 256,
  },
];

export function backboneSpec(id: string): BackboneSpec {
  const s = BACKBONES.find((b) => b.id === id);
  if (s === undefined) throw new UserError('invalid-request', `There is no vision backbone "${id}". Use one of ${BACKBONES.map((b) => b.id).join(', ')}, or auto.`, 'visionBackbones');
  return s;
}

/** A frozen backbone: images in its input range [N, S, S, 3] → its levels' maps. */
export interface Backbone {
  readonly spec: BackboneSpec;
  /** [N, S, S, 3] → one map per level [N, h, w, C], early to last. Differentiable in x; no variables. */
  features(x: tf.Tensor4D): tf.Tensor4D[];
  /** Its weights (to check they stay frozen). */
  weights(): tf.Tensor[];
  dispose(): void;
}

const requireHere = createRequire(import.meta.url);

/** nsfwjs' models folder in the installed package. */
export function nsfwjsModelsDir(): string {
  let entry: string;
  try {
    entry = requireHere.resolve('nsfwjs'); // …/nsfwjs/dist/cjs/index.js
  } catch {
    throw new UserError('unavailable', 'The nsfwjs package, which holds the vision-aided backbones, is not installed. Reinstall the studio (npm install).');
  }
  return join(resolve(dirname(entry), '..', '..'), 'dist', 'models');
}

/** Evaluates an nsfwjs `.min.js` bundle (UMD: the model JSON or a base64 shard) in an empty context. */
async function readBundle(path: string): Promise<unknown> {
  let code: string;
  try {
    code = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError('unavailable', `The backbone file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Reinstall the studio (npm install).`);
  }
  const module = { exports: {} as unknown };
  runInNewContext(code, { module, exports: module.exports }, { filename: path });
  return module.exports;
}

interface ModelJson {
  format?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

/** @vladmandic/human's models folder, or a clear error when the optional package is not installed. */
export function humanModelsDir(): string {
  let entry: string;
  try {
    entry = requireHere.resolve('@vladmandic/human'); // …/human/dist/human.node.js
  } catch {
    throw new UserError('unavailable', 'The CenterNet judge comes with the optional @vladmandic/human package, which is not installed. Install it (npm install @vladmandic/human), or pick another network (--backbones auto).', 'visionBackbones');
  }
  return join(dirname(entry), '..', 'models');
}

/** A plain TF.js model.json with its weight files beside it. */
async function readPlainModel(spec: BackboneSpec, path: string): Promise<tf.io.ModelArtifacts> {
  const read = async (file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new UserError('unavailable', `The backbone file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Reinstall the package it comes with.`);
    }
  };
  const json = JSON.parse((await read(path)).toString('utf8')) as ModelJson;
  const groups = json.weightsManifest ?? [];
  const buffers: Buffer[] = [];
  for (const g of groups) for (const p of g.paths) buffers.push(await read(join(dirname(path), p)));
  const weights = Buffer.concat(buffers);
  const topology = spec.kind === 'graph' ? patchGraph(json.modelTopology) : patchLayers(json.modelTopology, spec);
  const out: tf.io.ModelArtifacts = { modelTopology: topology, weightSpecs: groups.flatMap((g) => g.weights), weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) };
  if (json.format !== undefined) out.format = json.format;
  return out;
}

async function readModel(spec: BackboneSpec): Promise<tf.io.ModelArtifacts> {
  if (spec.source.package === '@vladmandic/human') return readPlainModel(spec, join(humanModelsDir(), spec.source.file));
  const dir = join(nsfwjsModelsDir(), spec.source.folder);
  const json = JSON.parse(JSON.stringify(await readBundle(join(dir, 'model.min.js')))) as ModelJson;
  const group = json.weightsManifest?.[0];
  if (!json.modelTopology || !group) throw new UserError('corrupt', `${join(dir, 'model.min.js')} is not the ${spec.title} model nsfwjs ships. Reinstall the studio (npm install).`);
  const shards = await Promise.all(group.paths.map(async (p) => Buffer.from((await readBundle(join(dir, `${p}.min.js`))) as string, 'base64')));
  const weights = Buffer.concat(shards);
  const topology = spec.kind === 'graph' ? patchGraph(json.modelTopology) : patchLayers(json.modelTopology, spec);
  const out: tf.io.ModelArtifacts = { modelTopology: topology, weightSpecs: group.weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) };
  if (json.format !== undefined) out.format = json.format;
  return out;
}

/** Frees the placeholder's batch and spatial sizes. */
export function patchGraph(topology: Record<string, unknown>): Record<string, unknown> {
  const nodes = topology['node'] as Array<{ op: string; attr?: { shape?: { shape?: { dim?: Array<{ size: string }> } } } }>;
  for (const n of nodes) {
    const dim = n.op === 'Placeholder' ? n.attr?.shape?.shape?.dim : undefined;
    if (dim !== undefined && dim.length === 4) for (let i = 0; i < 3; i++) dim[i] = { size: '-1' };
  }
  return topology;
}

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown;
}

/** Frees the input size, drops what follows the last level, and gives BatchNorm a gamma (scale: true, gamma = 1). */
export function patchLayers(topology: Record<string, unknown>, spec: BackboneSpec): Record<string, unknown> {
  const mc = topology['model_config'] as { config: { layers: KerasLayer[]; output_layers: unknown[] } };
  const layers = mc.config.layers;
  const last = spec.levels[spec.levels.length - 1]!.node;
  const end = layers.findIndex((l) => l.name === last);
  if (end < 0) throw new UserError('corrupt', `The ${spec.title} model has no layer ${last}. Reinstall the studio (npm install).`);
  mc.config.layers = layers.slice(0, end + 1);
  mc.config.output_layers = spec.levels.map((l) => [l.node, 0, 0]);
  for (const l of mc.config.layers) {
    if (l.class_name === 'InputLayer') l.config['batch_input_shape'] = [null, null, null, 3];
    if (l.class_name === 'BatchNormalization' && l.config['scale'] === false) l.config['scale'] = true;
  }
  return topology;
}

/** Loads a backbone from the installed nsfwjs into the current backend (a second or two). */
export async function loadBackbone(id: BackboneId): Promise<Backbone> {
  const spec = backboneSpec(id);
  const artifacts = await readModel(spec);
  if (spec.kind === 'graph') {
    const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    const outputs = spec.levels.map((l) => l.node);
    return {
      spec,
      features: (x) => model.execute(x, outputs) as tf.Tensor4D[],
      weights: () => Object.values(model.weights).flat(),
      dispose: () => model.dispose(),
    };
  }
  // strict: false: the patched BatchNorms have no gamma in the file (it starts at 1), and the dropped layers' weights go unused.
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts), { strict: false });
  model.trainable = false;
  return {
    spec,
    features: (x) => {
      const y = model.apply(x, { training: false }) as tf.Tensor4D | tf.Tensor4D[];
      return Array.isArray(y) ? y : [y];
    },
    weights: () => model.weights.map((w) => w.read()),
    dispose: () => model.dispose(),
  };
}

/** A level's side for an input of `size`² (SAME-padded stride: ceil). */
export function levelSide(level: LevelSpec, size: number): number {
  return Math.ceil(size / level.strideAt224);
}

/** The input side a backbone runs at for the run's setting: within what it takes (InceptionV3 needs ≥ 75², CenterNet ≤ 256²). */
export function inputFor(spec: BackboneSpec, size: number): number {
  return Math.min(spec.maxInput, Math.max(spec.minInput, size));
}

/** What the studio shows about each backbone (licence, training data), without loading any. */
export function backboneInfos(): BackboneInfo[] {
  return BACKBONE_INFOS.map((b) => ({ ...b }));
}
