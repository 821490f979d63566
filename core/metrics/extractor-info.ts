/**
 * What the service and the UI say about the feature extractor, without loading TensorFlow.js
 * (the service never does): where the bundled InceptionV3 lives, its id, and the note every
 * view and report carries about what the numbers can be compared with.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { ExtractorInfo } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { CustomExtractorSpec } from '../store/metrics.js';

export type { CustomExtractorSpec } from '../store/metrics.js';

/** What a custom extractor is assumed to take when the user does not say (TTUR's FID graph: raw pixels). */
export const DEFAULT_INPUT_RANGE: [number, number] = [0, 255];

const requireHere = createRequire(import.meta.url);

/** Where nsfwjs keeps its InceptionV3 files, and its version. */
export function bundledModelFiles(): { dir: string; version: string } {
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
  return { dir: join(root, 'dist', 'models', 'inception_v3'), version };
}

/** The bundled extractor's id (it names its cached features), known without loading it. */
export function bundledExtractorId(): string {
  return `nsfwjs-${bundledModelFiles().version}/inception_v3/mixed10-mean`;
}

export function bundledTitle(): string {
  return `InceptionV3 bundled with nsfwjs ${bundledModelFiles().version} (not the reference TF-Inception weights)`;
}

/** The note for views and reports. */
export const BUNDLED_NOTE =
  'These features come from the InceptionV3 bundled with nsfwjs, not the reference TF-Inception weights: compare runs within the studio, not with published FID or KID. Point the studio at a TF.js conversion of the standard FID Inception to get comparable numbers.';
export const REFERENCE_NOTE =
  'These features come from your FID Inception model: with the standard weights and enough samples (50,000 for FID), the numbers compare with published ones.';

export function extractorInfo(spec: CustomExtractorSpec | null): ExtractorInfo {
  if (spec === null) return { title: bundledTitle(), reference: false, path: null, inputRange: null, note: BUNDLED_NOTE };
  return { title: `Your feature extractor ${spec.path}`, reference: true, path: spec.path, inputRange: spec.inputRange, note: REFERENCE_NOTE };
}
