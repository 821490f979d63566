/**
 * What the service and the UI say about the feature extractor, without loading TensorFlow.js
 * (the service never does): where the bundled InceptionV3 lives, its id, and the note every
 * view and report carries about what the numbers can be compared with.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { BundledFeatures, ExtractorInfo } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { CustomExtractorSpec } from '../store/metrics.js';

export type { CustomExtractorSpec } from '../store/metrics.js';

/** What a custom extractor is assumed to take when the user does not say (TTUR's FID graph: raw pixels). */
export const DEFAULT_INPUT_RANGE: [number, number] = [0, 255];

const requireHere = createRequire(import.meta.url);

/**
 * Side of the square MobileNetV2 looks at on CPU backends: 128² costs a third of its native 224²
 * (bench/metrics.ts) and is still 8× the 16² a CPU run trains at.
 */
export const MOBILENET_SIZE = 128;

/** The bundled network a run's compute picks: MobileNetV2 on a CPU (seconds an evaluation), InceptionV3 on a GPU. */
export function bundledFeaturesFor(compute: 'cpu' | 'gpu'): BundledFeatures {
  return compute === 'cpu' ? 'mobilenet' : 'inception';
}

/** Where nsfwjs keeps a bundled network's files (InceptionV3 by default), and its version. */
export function bundledModelFiles(features: BundledFeatures = 'inception'): { dir: string; version: string } {
  let entry: string;
  try {
    entry = requireHere.resolve('nsfwjs'); // …/nsfwjs/dist/cjs/index.js
  } catch {
    throw new UserError('unavailable', 'The nsfwjs package, which holds the bundled InceptionV3 for the metrics, is not installed. Reinstall the studio (npm install).');
  }
  const root = resolve(dirname(entry), '..', '..');
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // The version only names the cache entries.
  }
  return { dir: join(root, 'dist', 'models', features === 'mobilenet' ? 'mobilenet_v2' : 'inception_v3'), version };
}

/** The bundled extractor's id (it names its cached features), known without loading it. */
export function bundledExtractorId(features: BundledFeatures = 'inception'): string {
  const v = bundledModelFiles(features).version;
  return features === 'mobilenet' ? `nsfwjs-${v}/mobilenet_v2/out_relu-mean-${MOBILENET_SIZE}` : `nsfwjs-${v}/inception_v3/mixed10-mean`;
}

export function bundledTitle(features: BundledFeatures = 'inception'): string {
  const v = bundledModelFiles(features).version;
  return features === 'mobilenet'
    ? `MobileNetV2 bundled with nsfwjs ${v}, at ${MOBILENET_SIZE}² (the quick extractor for CPU runs)`
    : `InceptionV3 bundled with nsfwjs ${v} (not the reference TF-Inception weights)`;
}

/** In plain words, for the Train view: what looks at the samples. */
export function featuresWords(features: BundledFeatures): string {
  return features === 'mobilenet' ? 'a small image network (MobileNetV2), quick enough for a processor' : 'a large image network (InceptionV3)';
}

/** The note for views and reports. */
export const BUNDLED_NOTE =
  'These features come from the InceptionV3 bundled with nsfwjs, not the reference TF-Inception weights: compare runs within the studio, not with published FID or KID. Point the studio at a TF.js conversion of the standard FID Inception to get comparable numbers.';
export const MOBILENET_NOTE =
  'This run is judged by MobileNetV2 (bundled with nsfwjs) at 128², a network quick enough to evaluate while a processor trains: its numbers compare runs judged the same way, not runs judged by the InceptionV3 or published FID or KID.';
export const REFERENCE_NOTE =
  'These features come from your FID Inception model: with the standard weights and enough samples (50,000 for FID), the numbers compare with published ones.';

export function extractorInfo(spec: CustomExtractorSpec | null, features: BundledFeatures = 'inception'): ExtractorInfo {
  if (spec === null) return { title: bundledTitle(features), reference: false, path: null, inputRange: null, note: features === 'mobilenet' ? MOBILENET_NOTE : BUNDLED_NOTE };
  return { title: `Your feature extractor ${spec.path}`, reference: true, path: spec.path, inputRange: spec.inputRange, note: REFERENCE_NOTE };
}
