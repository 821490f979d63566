/**
 * GeneratorMeta: what travels with a generator — into a model row, into every export's
 * `atelier.json`, and back in on import. With it (and the weights) a generator can be rebuilt
 * exactly and its samples reproduced: the architecture, the class names, the colour mode, how
 * seeds become z, which noise samples use, and where it came from (the run, the checkpoint, the
 * metrics at that point).
 */
import { UserError } from '../api/errors.js';
import { type NetConfig, resolveNetConfig } from '../nets/config.js';
import { LATENT_ALGORITHM } from './latents.js';

export const META_FORMAT = 1;

/** How a generator's images relate to pixels: about [−1, 1], mapped to [0, 255] by (x + 1)·127.5, clipped. */
export const PIXEL_RANGE = '[-1, 1] → (x + 1) · 127.5, clipped to [0, 255], rounded';

/** Where the weights came from. */
export type GeneratorSource =
  | { kind: 'checkpoint'; runId: number; runName: string; checkpointId: number; kimg: number; step: number }
  | { kind: 'import'; file: string; importedAt: string; exportedAs?: string }
  | ({ kind: 'merge' } & MergeProvenance);

/** A generator merged from others (core/merge): one class per source, and the stages that made it. */
export interface MergeProvenance {
  mergedAt: string;
  /** Index into `sources` of the root (the architecture and the starting weights). */
  root: number;
  sources: Array<{
    /** The class it became. */
    className: string;
    /** Its share of the training batches (the weights, normalised). */
    share: number;
    /** "Watercolour cats" (a model's name), "Run 3 at 12.8 kimg", a file name. */
    label: string;
    kind: 'model' | 'run' | 'tfjs' | 'onnx';
    /** Where it was read from: "model 4", "run 3, checkpoint 12", a path. */
    ref: string;
    resolution: number;
    /** SHA-256 of its weights (or of the ONNX file). */
    sha256: string;
  }>;
  stages: Array<{ kind: string; source: number | null; kimg: number; steps: number; seconds: number }>;
  /** Things to know, in words (e.g. that the root's discriminator was trained from scratch). */
  notes: string[];
}

/** A line about the training that made it, for people reading the export. */
export interface TrainingSummary {
  preset: string;
  /** Images shown to D, in thousands, when the weights were saved. */
  kimg: number;
  step: number;
  seed: number;
  batch: number;
  /** The backend the checkpoint was written on. */
  backend: string;
  /** Images in the dataset when it was promoted (null: unknown). */
  datasetImages: number | null;
  /** Each metric series ('Metrics/kid', 'Loss/G', …) at the checkpoint (its last value at or before the checkpoint's kimg). */
  metrics: Record<string, number | null>;
}

export interface GeneratorMeta {
  format: typeof META_FORMAT;
  /** The architecture, every field (rebuilds the same Generator). */
  net: NetConfig;
  /** Class names, index = class (empty: unconditional). */
  classNames: string[];
  colourMode: 'rgb' | 'grayscale';
  /** Per-layer noise in samples and exports: each layer's stored constant noise (reproducible). */
  noise: 'const';
  /** How seeds become z (core/generator/latents.ts). */
  latent: { algorithm: string; zDim: number };
  source: GeneratorSource;
  training: TrainingSummary | null;
}

export function colourModeOf(channels: number): 'rgb' | 'grayscale' {
  return channels === 1 ? 'grayscale' : 'rgb';
}

/** Builds the meta of a generator made from a checkpoint. */
export function metaFromCheckpoint(o: {
  net: NetConfig;
  classNames: readonly string[];
  source: Extract<GeneratorSource, { kind: 'checkpoint' }>;
  training: TrainingSummary | null;
}): GeneratorMeta {
  const net = resolveNetConfig(o.net);
  return {
    format: META_FORMAT,
    net,
    classNames: [...o.classNames],
    colourMode: colourModeOf(net.imageChannels),
    noise: 'const',
    latent: { algorithm: LATENT_ALGORITHM, zDim: net.zDim },
    source: o.source,
    training: o.training,
  };
}

/**
 * Reads and checks a GeneratorMeta from JSON (a model row, an export's atelier.json). `what`
 * names the file or record in the error, which says what to do.
 */
export function parseGeneratorMeta(value: unknown, what: string): GeneratorMeta {
  const bad = (why: string): never => {
    throw new UserError('corrupt', `${what} does not describe a GAN Atelier generator (${why}). Export the model again from the studio.`, what);
  };
  if (value === null || typeof value !== 'object') bad('not a JSON object');
  const m = value as Partial<GeneratorMeta>;
  if (m.format !== META_FORMAT) bad(m.format === undefined ? 'no format' : `format ${String(m.format)}, this studio reads ${META_FORMAT}`);
  if (m.net === undefined || typeof m.net !== 'object') bad('no network settings');
  let net: NetConfig;
  try {
    net = resolveNetConfig(m.net as NetConfig);
  } catch (err) {
    return bad((err as Error).message);
  }
  const classNames = m.classNames;
  if (!Array.isArray(classNames) || !classNames.every((c) => typeof c === 'string')) return bad('no class names');
  if (classNames.length !== net.numClasses) bad(`${classNames.length} class names for ${net.numClasses} classes`);
  if (m.latent?.algorithm !== LATENT_ALGORITHM) bad(`latents made by "${String(m.latent?.algorithm)}", this studio makes ${LATENT_ALGORITHM}`);
  if (m.noise !== 'const') bad(`noise "${String(m.noise)}"`);
  const source = m.source;
  if (source === undefined || (source.kind !== 'checkpoint' && source.kind !== 'import' && source.kind !== 'merge')) bad('no source');
  return {
    format: META_FORMAT,
    net,
    classNames: [...classNames],
    colourMode: colourModeOf(net.imageChannels),
    noise: 'const',
    latent: { algorithm: LATENT_ALGORITHM, zDim: net.zDim },
    source: source as GeneratorSource,
    training: (m.training ?? null) as TrainingSummary | null,
  };
}

/** The class index checked against the generator: null for unconditional ones, else 0…numClasses−1. */
export function checkClass(meta: Pick<GeneratorMeta, 'net' | 'classNames'>, classIndex: number | null | undefined, what = 'class'): number | null {
  const k = meta.net.numClasses;
  if (k === 0) {
    if (classIndex !== null && classIndex !== undefined) throw new UserError('invalid-request', `This generator has no classes; leave out the ${what}.`, what);
    return null;
  }
  if (classIndex === null || classIndex === undefined) return 0;
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= k) {
    throw new UserError('invalid-request', `The ${what} ${classIndex} does not exist: this generator has ${k} classes, 0 to ${k - 1} (${meta.classNames.join(', ')}).`, what);
  }
  return classIndex;
}

/** A class given as a name or an index (CLI `--class`), as an index; null for an unconditional generator. */
export function classFromText(classNames: readonly string[], text: string, what = '--class'): number | null {
  if (classNames.length === 0) throw new UserError('invalid-request', `This generator has no classes; leave out ${what}.`, what);
  const byName = classNames.indexOf(text);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(text) && Number(text) < classNames.length) return Number(text);
  throw new UserError('invalid-request', `${what} "${text}" is not one of this generator's classes: ${classNames.map((c, i) => `${i} ${c}`).join(', ')}.`, what);
}
