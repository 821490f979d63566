/**
 * Reading back a TF.js export made by this studio (core/export/tfjs-export.ts) to import it as a
 * model. Refused, with a message naming the file and what to do: a folder without atelier.json
 * (some other model.json), another format or a newer version, a file whose size or SHA-256 is not
 * what atelier.json says (truncated, damaged, edited), weights that do not match the manifest.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError, describeIoError } from '../api/errors.js';
import { type GeneratorMeta, parseGeneratorMeta } from '../generator/meta.js';
import type { NamedArray } from '../nets/checkpoint-format.js';
import { ATELIER_FORMAT, ATELIER_FORMAT_VERSION, ATELIER_JSON, type AtelierJson, sha256 } from './generator-files.js';
import { MODEL_FILE, WEIGHTS_FILE } from './tfjs-export.js';
import type { WeightSpec } from './tfjs-graph.js';

export interface ImportedGenerator {
  dir: string;
  name: string;
  meta: GeneratorMeta;
  /** The generator's parameters ('G.…'). */
  tensors: Map<string, NamedArray>;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch (err) {
    throw describeIoError(err, p, 'read');
  }
}

async function readOrExplain(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      throw new UserError('not-found', `${file} is missing: the export is incomplete. Copy the whole folder again, or export the model again from the studio.`, file);
    }
    throw describeIoError(err, file, 'read');
  }
}

/** Reads and checks an export; `path` is its folder, its model.json or its atelier.json. */
export async function readTfjsExport(path: string): Promise<ImportedGenerator> {
  const dir = (await isDir(path)) ? path : dirname(path);
  if (!(await isDir(path)) && ![MODEL_FILE, ATELIER_JSON].includes(basename(path))) {
    throw new UserError('invalid-request', `${path} is not a generator export. Pick the folder the studio exported (it holds ${MODEL_FILE} and ${ATELIER_JSON}), or its ${MODEL_FILE}.`, path);
  }
  const infoPath = join(dir, ATELIER_JSON);
  const modelPath = join(dir, MODEL_FILE);
  let infoBytes: Buffer;
  try {
    infoBytes = await readFile(infoPath);
  } catch {
    const hasModel = await stat(modelPath).then(() => true, () => false);
    throw new UserError(
      'invalid-request',
      hasModel
        ? `${modelPath} was not exported by GAN Atelier (there is no ${ATELIER_JSON} beside it). The studio imports generators it exported itself (Models → Export → TF.js).`
        : `${dir} holds no generator export (no ${ATELIER_JSON}, no ${MODEL_FILE}). Pick the folder the studio exported.`,
      hasModel ? modelPath : dir,
    );
  }
  let info: AtelierJson;
  try {
    info = JSON.parse(infoBytes.toString('utf8')) as AtelierJson;
  } catch {
    throw new UserError('corrupt', `${infoPath} is damaged (not valid JSON). Export the model again from the studio.`, infoPath);
  }
  if (info?.format !== ATELIER_FORMAT) {
    throw new UserError('invalid-request', `${infoPath} does not describe a GAN Atelier generator (format "${String(info?.format)}"). Pick a folder the studio exported.`, infoPath);
  }
  if (info.version > ATELIER_FORMAT_VERSION) {
    throw new UserError('too-new', `${infoPath} was written by a newer GAN Atelier (export format ${info.version}; this version reads ${ATELIER_FORMAT_VERSION}). Update the studio to import it.`, infoPath);
  }
  if (info.kind !== 'tfjs') {
    throw new UserError('invalid-request', `${dir} is a GAN Atelier ${info.kind} export; import the TF.js export of the model instead (Models → Export → TF.js).`, infoPath);
  }
  const meta = parseGeneratorMeta(info.generator, infoPath);

  // Every file as atelier.json says: present, same size, same SHA-256.
  const files = new Map<string, Buffer>();
  for (const name of [MODEL_FILE, WEIGHTS_FILE]) {
    const expected = info.files?.[name];
    if (!expected) throw new UserError('corrupt', `${infoPath} lists no ${name}. Export the model again from the studio.`, infoPath);
    const file = join(dir, name);
    const data = await readOrExplain(file);
    if (data.byteLength !== expected.bytes) {
      throw new UserError('corrupt', `${file} is ${data.byteLength < expected.bytes ? 'truncated' : 'damaged'}: ${data.byteLength.toLocaleString('en-GB')} bytes where the export wrote ${expected.bytes.toLocaleString('en-GB')}. Copy it again, or export the model again.`, file);
    }
    if (sha256(data) !== expected.sha256) {
      throw new UserError('corrupt', `${file} was changed or damaged after export (its checksum differs from ${ATELIER_JSON}). Copy it again, or export the model again.`, file);
    }
    files.set(name, data);
  }

  // The weights, by the manifest.
  let manifest: WeightSpec[];
  try {
    const modelJson = JSON.parse(files.get(MODEL_FILE)!.toString('utf8')) as { weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }> };
    manifest = modelJson.weightsManifest.flatMap((g) => g.weights);
  } catch {
    throw new UserError('corrupt', `${modelPath} is damaged (not a TF.js model.json). Export the model again.`, modelPath);
  }
  const weights = files.get(WEIGHTS_FILE)!;
  const tensors = new Map<string, NamedArray>();
  let offset = 0;
  for (const spec of manifest) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = n * 4;
    if (offset + bytes > weights.byteLength) throw new UserError('corrupt', `${join(dir, WEIGHTS_FILE)} is shorter than ${MODEL_FILE} says. Export the model again.`, join(dir, WEIGHTS_FILE));
    if (spec.dtype === 'float32' && spec.name.startsWith('G.')) {
      const data = new Float32Array(n);
      new Uint8Array(data.buffer).set(weights.subarray(offset, offset + bytes));
      tensors.set(spec.name, { name: spec.name, shape: spec.shape, data });
    }
    offset += bytes;
  }
  if (offset !== weights.byteLength) throw new UserError('corrupt', `${join(dir, WEIGHTS_FILE)} does not match ${MODEL_FILE} (${weights.byteLength - offset} bytes left over). Export the model again.`, join(dir, WEIGHTS_FILE));
  return { dir, name: info.name, meta, tensors };
}
