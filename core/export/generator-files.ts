/**
 * What every generator export shares: the generator's parameters and meta, the graph made from
 * them, and `atelier.json` — the description others read (z size, classes, resolution, colour
 * mode, w-average, inputs and outputs, how seeds become z, the training that made it) and the
 * studio reads back on import (with the files' SHA-256, so a damaged or edited export is refused).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type GeneratorMeta, PIXEL_RANGE } from '../generator/meta.js';
import { buildGeneratorGraph, type GeneratorGraph, GRAPH_NAMES } from './generator-graph.js';

/** A generator ready to be written out. */
export interface ExportableGenerator {
  /** The model's name, or "Run 3 at 12.8 kimg". */
  label: string;
  meta: GeneratorMeta;
  /** Every parameter, by the Generator's names ('G.…'). */
  values: ReadonlyMap<string, Float32Array>;
  shapes: ReadonlyMap<string, readonly number[]>;
}

export const ATELIER_FORMAT = 'gan-atelier-generator';
export const ATELIER_FORMAT_VERSION = 1;
export const ATELIER_JSON = 'atelier.json';
export const LATENTS_FILE = 'atelier-latents.js';

/** atelier.json. */
export interface AtelierJson {
  format: typeof ATELIER_FORMAT;
  version: number;
  name: string;
  exportedAt: string;
  studioVersion: string;
  /** What the export is: 'tfjs' here (the HTML sampler carries the same description). */
  kind: 'tfjs' | 'html' | 'onnx';
  zSize: number;
  classes: string[];
  resolution: number;
  colourMode: 'rgb' | 'grayscale';
  inputs: Record<string, { shape: number[]; description: string }>;
  outputs: Record<string, { shape: number[]; description: string }>;
  /** The tracked average w that ψ pulls toward. */
  wAverage: number[];
  noise: string;
  latents: { algorithm: string; file: string; description: string };
  training: GeneratorMeta['training'];
  source: GeneratorMeta['source'];
  /** Files of the export with their size and SHA-256 (checked on import). */
  files: Record<string, { bytes: number; sha256: string }>;
  /** Everything the studio needs to rebuild the generator. */
  generator: GeneratorMeta;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function graphOf(g: ExportableGenerator): GeneratorGraph {
  return buildGeneratorGraph(g.meta.net, g.shapes);
}

export function valuesOf(g: ExportableGenerator): (name: string) => Float32Array {
  return (name) => {
    const v = g.values.get(name);
    if (v === undefined) throw new Error(`export: no values for ${name}`);
    return v;
  };
}

/** The description of inputs and outputs, shared by atelier.json, the READMEs and the ONNX metadata. */
export function ioDescription(meta: GeneratorMeta): Pick<AtelierJson, 'inputs' | 'outputs'> {
  const n = meta.net;
  const inputs: AtelierJson['inputs'] = {
    [GRAPH_NAMES.z]: { shape: [-1, n.zDim], description: `latent z, standard normal; from a seed with ${LATENTS_FILE} (seedToZ) to get the studio's images` },
    [GRAPH_NAMES.psi]: { shape: [], description: 'truncation ψ (scalar): w ← w_avg + ψ·(w − w_avg); 1 leaves w alone, 0.7 is a common choice' },
  };
  if (n.numClasses > 0) inputs[GRAPH_NAMES.class] = { shape: [-1, n.numClasses], description: `one-hot class (${meta.classNames.join(', ')})` };
  return {
    inputs,
    outputs: { [GRAPH_NAMES.image]: { shape: [-1, n.resolution, n.resolution, n.imageChannels], description: `images, channels last, about [-1, 1]; pixels: ${PIXEL_RANGE}` } },
  };
}

export function atelierJson(g: ExportableGenerator, o: { kind: AtelierJson['kind']; studioVersion: string; files: AtelierJson['files'] }): AtelierJson {
  const m = g.meta;
  const wAvg = g.values.get('G.mapping.w_avg');
  return {
    format: ATELIER_FORMAT,
    version: ATELIER_FORMAT_VERSION,
    name: g.label,
    exportedAt: new Date().toISOString(),
    studioVersion: o.studioVersion,
    kind: o.kind,
    zSize: m.net.zDim,
    classes: m.classNames,
    resolution: m.net.resolution,
    colourMode: m.colourMode,
    ...ioDescription(m),
    wAverage: wAvg === undefined ? [] : Array.from(wAvg),
    noise: "each synthesis layer's stored constant noise (the same every time): images depend only on z, class and ψ",
    latents: { algorithm: m.latent.algorithm, file: LATENTS_FILE, description: 'seedToZ(seed, zSize): xoshiro128** + polar method, the same in every JavaScript engine' },
    training: m.training,
    source: m.source,
    files: o.files,
    generator: m,
  };
}

const ASSETS = new URL('./assets/', import.meta.url);

/** A file shipped with exports (core/export/assets/; copied beside the bundle in the packaged app). */
export async function asset(name: string): Promise<Buffer> {
  return readFile(fileURLToPath(new URL(name, ASSETS)));
}
