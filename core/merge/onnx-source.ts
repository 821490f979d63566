/**
 * Generators made by other tools, as ONNX (e.g. a StyleGAN2-ADA or FastGAN PyTorch generator
 * exported with torch.onnx.export), run by ONNX Runtime (onnxruntime-node). The studio only
 * samples from a source, so any generator ONNX Runtime can run will do, once it knows:
 *   the latent input (name, size), an optional class input (one-hot [N, K] or indices [N]),
 *   values for other scalar inputs (truncation ψ: 1), which output is the image, its layout
 *   (NCHW or NHWC) and its value range ([−1, 1], [0, 1] or [0, 255]).
 * Each is taken from the options, else inferred: inputs and outputs from the graph's signature,
 * the range from the file's own description (the studio's export carries its atelier.json), the
 * operator that makes the output (Tanh, Sigmoid), or else measured on a probe batch (negative
 * values: [−1, 1]; above 2: [0, 255]; else [0, 1]), and the layout from the probe's shape. `inspectOnnx` says what it inferred and returns
 * the probe's images, so the user can confirm with a preview. A file that cannot be read, loaded
 * or run, or whose signature is not a generator's, is refused with the reason, naming the file,
 * before any training (and nothing is written).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type * as OnnxRuntimeModule from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { describeIoError, UserError } from '../api/errors.js';
import { readFloatsAndDispose } from '../backend/read.js';
import { seedToZ } from '../generator/latents.js';
import { ATELIER_FORMAT, ATELIER_JSON, sha256 } from '../export/generator-files.js';
import { rangeFromGraph, readOnnxMetadata, readOnnxNodes } from './onnx-reader.js';
import type { MergeSource } from './source.js';

type Ort = typeof OnnxRuntimeModule;
type Session = OnnxRuntimeModule.InferenceSession;
type OrtTensor = OnnxRuntimeModule.Tensor;

export type OnnxRange = '[-1,1]' | '[0,1]' | '[0,255]';
export type OnnxLayout = 'NCHW' | 'NHWC';

export interface OnnxSourceOptions {
  /** The latent input; default: inferred (the float input of shape [batch, Z], named z or latent if there are several). */
  latentInput?: string;
  /** Its size Z, where the file leaves it open. */
  latentSize?: number;
  /** The class input; null: none; default: inferred (an input named c, class, label or y). */
  classInput?: string | null;
  /** Classes the class input takes, where the file leaves it open (an index input always needs it). */
  numClasses?: number;
  /** The class to sample; default: each sample draws one of its classes uniformly. */
  classIndex?: number;
  /** The image output; default: the only float output of rank 4. */
  output?: string;
  /** Default: from the probe's shape. */
  layout?: OnnxLayout;
  /** Default: from the graph's last operator, else measured on the probe. */
  range?: OnnxRange;
  /** Values of other scalar inputs; ones named like psi or truncation default to 1. */
  constants?: Record<string, number>;
  /** For people; default: the file name. */
  label?: string;
}

export interface OnnxDescription {
  path: string;
  label: string;
  sha256: string;
  latent: { name: string; size: number };
  cls: { name: string; kind: 'one-hot' | 'index'; count: number; type: 'float32' | 'int64' | 'int32' } | null;
  classIndex: number | null;
  output: { name: string; layout: OnnxLayout; resolution: number; channels: number };
  range: OnnxRange;
  constants: Record<string, { value: number; shape: number[] }>;
  /** Largest batch one run takes (the file fixes it), or null (any). */
  batchLimit: number | null;
  /** What was inferred rather than given, in words, for the user to confirm. */
  inferred: string[];
  /** The probe: images in [−1, 1] mapped to uint8, [count, R, R, C], at the file's own resolution. */
  preview: { pixels: Uint8Array; count: number; resolution: number; channels: number };
}

/** Images the probe makes (seeds 0…7). */
const PROBE = 8;

const LATENT_NAMES = /^(z|zs|latent|latents|noise|input_?z|z_?in(put)?)$/i;
const CLASS_NAMES = /^(c|cs|class|classes|class_?labels?|labels?|y|cond(ition)?)$/i;
const UNIT_NAMES = /(psi|trunc)/i;

async function loadOrt(path: string): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (err) {
    throw new UserError('unavailable', `ONNX Runtime (onnxruntime-node) could not load here (${(err as Error).message.split('\n')[0]}), so ${path} cannot be used as a source. Export that generator to TF.js from the studio it came from, if it was one.`, path);
  }
}

interface InputMeta {
  name: string;
  type: string;
  /** Numbers for fixed sizes, strings for open ones. */
  shape: Array<number | string>;
}

function tensorMeta(list: readonly OnnxRuntimeModule.InferenceSession.ValueMetadata[]): InputMeta[] {
  return list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

const shapeText = (s: ReadonlyArray<number | string>): string => `[${s.map((d) => (typeof d === 'number' ? String(d) : d || '?')).join(', ')}]`;
const fixed = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);

/** An ONNX generator, described and ready to run. */
export class OnnxSource implements MergeSource {
  readonly kind = 'onnx' as const;
  readonly networks = null;
  readonly label: string;
  readonly ref: string;
  readonly resolution: number;
  readonly channels: number;
  readonly zDim: number;
  readonly numClasses: number;
  readonly classIndex: number | null;
  readonly sha256: string;

  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    readonly description: OnnxDescription,
  ) {
    const d = description;
    this.label = d.label;
    this.ref = d.path;
    this.resolution = d.output.resolution;
    this.channels = d.output.channels;
    this.zDim = d.latent.size;
    this.numClasses = d.cls?.count ?? 0;
    this.classIndex = d.classIndex;
    this.sha256 = d.sha256;
  }

  /** Reads, loads, checks and probes the file (see the header); refuses it with the reason. */
  static async open(path: string, o: OnnxSourceOptions = {}): Promise<OnnxSource> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw describeIoError(err, path, 'read');
    }
    const refuse = (why: string, todo: string): never => {
      throw new UserError('invalid-request', `${path} cannot be used as a merge source: ${why}. ${todo}`, path);
    };
    const ort = await loadOrt(path);
    let session: Session;
    try {
      session = await ort.InferenceSession.create(bytes);
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0]!.replace(/\s+$/, '');
      return refuse(`ONNX Runtime cannot load it (${reason})`, 'Check that it is an .onnx file and not damaged (copy it again), or export the generator again with torch.onnx.export.');
    }
    try {
      const description = await describe(ort, session, bytes, path, o, refuse);
      return new OnnxSource(ort, session, description);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  async generate(z: Float32Array, classes: Int32Array | null, n: number): Promise<tf.Tensor4D> {
    const d = this.description;
    const per = d.output.resolution * d.output.resolution * d.output.channels;
    const out = new Float32Array(n * per);
    const step = d.batchLimit ?? n;
    for (let start = 0; start < n; start += step) {
      const m = Math.min(step, n - start);
      const { values } = await runBatch(this.ort, this.session, d, z.subarray(start * d.latent.size, (start + m) * d.latent.size), classes?.subarray(start, start + m) ?? null, m, this.ref);
      if (values.length !== m * per) throw new UserError('invalid-request', `${this.ref} made ${values.length} values for ${m} images of ${per}: its output size changed between runs.`, this.ref);
      out.set(values, start * per);
    }
    return imagesFrom(out, n, d);
  }

  dispose(): void {
    void this.session.release();
  }
}

/** What a batch needs to know about the inputs and the output. */
type RunPlan = Pick<OnnxDescription, 'latent' | 'cls' | 'constants'> & { output: { name: string } };

/** Fills the inputs and runs one batch of `n`: the image output's values as the file lays them out, and its dims. */
async function runBatch(ort: Ort, session: Session, d: RunPlan, z: Float32Array, classes: Int32Array | null, n: number, path: string): Promise<{ values: Float32Array; dims: readonly number[] }> {
  const feeds: Record<string, OrtTensor> = { [d.latent.name]: new ort.Tensor('float32', Float32Array.from(z), [n, d.latent.size]) };
  if (d.cls !== null) {
    const c = classes ?? new Int32Array(n);
    if (d.cls.kind === 'one-hot') {
      const v = new Float32Array(n * d.cls.count);
      c.forEach((k, i) => (v[i * d.cls!.count + k] = 1));
      feeds[d.cls.name] = new ort.Tensor('float32', v, [n, d.cls.count]);
    } else if (d.cls.type === 'int64') {
      feeds[d.cls.name] = new ort.Tensor('int64', BigInt64Array.from(c, (k) => BigInt(k)), [n]);
    } else {
      feeds[d.cls.name] = new ort.Tensor('int32', Int32Array.from(c), [n]);
    }
  }
  for (const [name, { value, shape }] of Object.entries(d.constants)) feeds[name] = new ort.Tensor('float32', Float32Array.of(value), shape);
  let result: OnnxRuntimeModule.InferenceSession.ReturnType;
  try {
    result = await session.run(feeds);
  } catch (err) {
    throw new UserError('invalid-request', `${path} failed to run in ONNX Runtime (${(err as Error).message.split('\n')[0]}). Check its inputs in the merge settings (latent size, class input), or export the generator again.`, path);
  }
  const t = result[d.output.name];
  if (t === undefined || t.type !== 'float32') throw new UserError('invalid-request', `${path} gave no float32 output "${d.output.name}".`, path);
  const values = t.data as Float32Array;
  const dims = [...t.dims];
  for (const other of Object.values(result)) other.dispose();
  return { values, dims };
}

/** Values as the file lays them out → images [n, R, R, C] in [−1, 1]. */
function imagesFrom(values: Float32Array, n: number, d: Pick<OnnxDescription, 'output' | 'range'>): tf.Tensor4D {
  const { resolution: r, channels: c, layout } = d.output;
  return tf.tidy(() => {
    let x = layout === 'NCHW' ? tf.tensor4d(values, [n, c, r, r]).transpose([0, 2, 3, 1]) : tf.tensor4d(values, [n, r, r, c]);
    if (d.range === '[0,1]') x = x.mul(2).sub(1);
    else if (d.range === '[0,255]') x = x.div(127.5).sub(1);
    return x as tf.Tensor4D; // [n, R, R, C]
  });
}

/** Works out every input and the output (options first, then the graph), then probes. */
async function describe(ort: Ort, session: Session, bytes: Uint8Array, path: string, o: OnnxSourceOptions, refuse: (why: string, todo: string) => never): Promise<OnnxDescription> {
  const inferred: string[] = [];
  const inputs = tensorMeta(session.inputMetadata);
  const outputs = tensorMeta(session.outputMetadata);
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const list = inputs.map((i) => `${i.name} ${i.type} ${shapeText(i.shape)}`).join('; ');
  const named = (name: string, what: string): InputMeta => byName.get(name) ?? refuse(`it has no input "${name}" (the ${what} given); its inputs are ${list}`, 'Name one of those.');

  // The class input: given, else one named like a class.
  let clsIn: InputMeta | null = null;
  if (o.classInput !== undefined && o.classInput !== null) clsIn = named(o.classInput, 'class input');
  else if (o.classInput === undefined) {
    const candidates = inputs.filter((i) => CLASS_NAMES.test(i.name) && i.name !== o.latentInput);
    if (candidates.length === 1) {
      clsIn = candidates[0]!;
      inferred.push(`class input "${clsIn.name}"`);
    }
  }

  // The latent: given, else the one float input of rank 2 left (or the one named like a latent).
  let latIn: InputMeta;
  if (o.latentInput !== undefined) latIn = named(o.latentInput, 'latent input');
  else {
    const floats = inputs.filter((i) => i !== clsIn && i.type === 'float32' && i.shape.length === 2);
    const pick = floats.length === 1 ? floats[0] : floats.filter((i) => LATENT_NAMES.test(i.name)).length === 1 ? floats.find((i) => LATENT_NAMES.test(i.name)) : undefined;
    if (pick === undefined) {
      return refuse(
        floats.length === 0 ? `it has no float input of shape [batch, size] to take a latent (its inputs: ${list})` : `several inputs could be the latent (${floats.map((i) => i.name).join(', ')})`,
        floats.length === 0 ? 'A generator takes a latent vector; this file looks like another kind of network.' : 'Name the latent input in the source settings.',
      );
    }
    latIn = pick;
    inferred.push(`latent input "${latIn.name}"`);
  }
  if (latIn.type !== 'float32' || latIn.shape.length !== 2) return refuse(`its latent input "${latIn.name}" is ${latIn.type} ${shapeText(latIn.shape)}, not float32 [batch, size]`, 'Name another input as the latent, or export the generator with a float32 latent.');
  const zSize = fixed(latIn.shape[1]) ?? o.latentSize ?? refuse(`the size of its latent input "${latIn.name}" is left open (${shapeText(latIn.shape)})`, 'Give the latent size in the source settings (512 for StyleGAN2).');
  if (o.latentSize !== undefined && fixed(latIn.shape[1]) !== null && o.latentSize !== zSize) return refuse(`its latent input "${latIn.name}" takes ${zSize} values, not the ${o.latentSize} given`, `Set the latent size to ${zSize}.`);

  // The class input's kind and size.
  let cls: OnnxDescription['cls'] = null;
  if (clsIn !== null) {
    if (clsIn.type === 'float32' && clsIn.shape.length === 2) {
      const count = fixed(clsIn.shape[1]) ?? o.numClasses ?? refuse(`the number of classes of its class input "${clsIn.name}" is left open`, 'Give the number of classes in the source settings.');
      cls = { name: clsIn.name, kind: 'one-hot', count, type: 'float32' };
    } else if ((clsIn.type === 'int64' || clsIn.type === 'int32') && clsIn.shape.length === 1) {
      const count = o.numClasses ?? refuse(`its class input "${clsIn.name}" takes class numbers, and how many classes there are is not in the file`, 'Give the number of classes in the source settings.');
      cls = { name: clsIn.name, kind: 'index', count, type: clsIn.type };
    } else {
      return refuse(`its class input "${clsIn.name}" is ${clsIn.type} ${shapeText(clsIn.shape)}, neither one-hot float32 [batch, classes] nor class numbers int64 [batch]`, 'Name another input as the class input, or none.');
    }
    if (cls.count < 1) return refuse(`its class input "${clsIn.name}" takes no classes`, 'Leave the class input out.');
  }
  let classIndex: number | null = null;
  if (o.classIndex !== undefined) {
    if (cls === null) return refuse('a class was given but it has no class input', 'Leave out the class, or name its class input.');
    if (!Number.isInteger(o.classIndex) || o.classIndex < 0 || o.classIndex >= cls.count) return refuse(`it has no class ${o.classIndex} (classes 0 to ${cls.count - 1})`, 'Pick one of those.');
    classIndex = o.classIndex;
  }

  // Every other input must be a scalar the studio can fill.
  const constants: OnnxDescription['constants'] = {};
  for (const i of inputs) {
    if (i === latIn || i === clsIn) continue;
    const scalar = i.type === 'float32' && (i.shape.length === 0 || (i.shape.length === 1 && i.shape[0] === 1));
    const given = o.constants?.[i.name];
    if (!scalar) return refuse(`it has an input the studio cannot fill: "${i.name}" ${i.type} ${shapeText(i.shape)}`, 'A merge source may take a latent, a class and float scalars (such as truncation ψ); export the generator with only those inputs.');
    if (given !== undefined) constants[i.name] = { value: given, shape: i.shape.length === 0 ? [] : [1] };
    else if (UNIT_NAMES.test(i.name)) {
      constants[i.name] = { value: 1, shape: i.shape.length === 0 ? [] : [1] };
      inferred.push(`"${i.name}" = 1 (no truncation)`);
    } else return refuse(`its scalar input "${i.name}" has no value`, `Give "${i.name}" a value in the source settings.`);
  }

  // A batch size the file fixes (every input must agree).
  const batchDims = [latIn, ...(clsIn ? [clsIn] : [])].map((i) => fixed(i.shape[0]));
  const batchLimit = batchDims[0] ?? null;
  if (batchDims.some((b) => b !== batchLimit)) return refuse(`its inputs fix different batch sizes (${batchDims.join(', ')})`, 'Export it with one batch dimension.');

  // The image output.
  const floats4 = outputs.filter((x) => x.type === 'float32' && x.shape.length === 4);
  let out: InputMeta;
  if (o.output !== undefined) out = outputs.find((x) => x.name === o.output) ?? refuse(`it has no output "${o.output}"; its outputs are ${outputs.map((x) => x.name).join(', ')}`, 'Name one of those.');
  else if (floats4.length === 1) out = floats4[0]!;
  else {
    return refuse(
      floats4.length === 0 ? `none of its outputs is an image (float32 of rank 4): ${outputs.map((x) => `${x.name} ${x.type} ${shapeText(x.shape)}`).join('; ')}` : `several outputs could be the image (${floats4.map((x) => x.name).join(', ')})`,
      floats4.length === 0 ? 'A generator makes images [batch, channels, height, width] or [batch, height, width, channels]; this file looks like another kind of network.' : 'Name the image output in the source settings.',
    );
  }
  if (out.type !== 'float32' || out.shape.length !== 4) return refuse(`its output "${out.name}" is ${out.type} ${shapeText(out.shape)}, not a float32 image batch`, 'Name the image output.');

  // Probe: seeds 0…7 (classes in turn), to see the output's real shape and values.
  const probeClasses = cls === null ? null : Int32Array.from({ length: PROBE }, (_, i) => classIndex ?? i % cls!.count);
  const z = new Float32Array(PROBE * zSize);
  for (let i = 0; i < PROBE; i++) z.set(seedToZ(i, zSize), i * zSize);
  const plan: RunPlan = { latent: { name: latIn.name, size: zSize }, cls, constants, output: { name: out.name } };
  const step = batchLimit ?? PROBE;
  const chunks: Float32Array[] = [];
  let dims: readonly number[] = [];
  for (let start = 0; start < PROBE; start += step) {
    const m = Math.min(step, PROBE - start);
    const r = await runBatch(ort, session, plan, z.subarray(start * zSize, (start + m) * zSize), probeClasses?.subarray(start, start + m) ?? null, m, path);
    if (r.dims.length !== 4 || r.dims[0] !== m) return refuse(`its output "${out.name}" came out ${shapeText(r.dims)} for a batch of ${m}`, 'A generator makes one image per latent, [batch, …] of rank 4.');
    chunks.push(r.values);
    dims = r.dims;
  }
  const [, a, b, c] = dims as [number, number, number, number];
  const nhwc = a === b && (c === 1 || c === 3);
  const nchw = b === c && (a === 1 || a === 3);
  let layout: OnnxLayout;
  if (o.layout !== undefined) layout = o.layout;
  else if (nhwc !== nchw) {
    layout = nhwc ? 'NHWC' : 'NCHW';
    inferred.push(`layout ${layout} (output ${shapeText(dims)})`);
  } else {
    return refuse(
      nhwc ? `its output ${shapeText(dims)} could be laid out either way` : `its output ${shapeText(dims)} is not a square image with 1 or 3 channels${a === 4 || c === 4 ? ' (4 channels, RGBA, are not supported)' : ''}`,
      nhwc ? 'Say whether it is NCHW or NHWC in the source settings.' : 'A merge source makes square grayscale or RGB images.',
    );
  }
  const [resolution, channels] = layout === 'NHWC' ? [a, c] : [b, a];
  if (layout === 'NHWC' ? !nhwc : !nchw) return refuse(`its output ${shapeText(dims)} is not a square ${layout} image with 1 or 3 channels`, 'Check the layout setting.');
  if (resolution < 4) return refuse(`its images are ${resolution}×${resolution}`, 'A merge source makes images of at least 4×4.');

  const values = new Float32Array(chunks.reduce((s, ch) => s + ch.length, 0));
  let at = 0;
  for (const ch of chunks) {
    values.set(ch, at);
    at += ch.length;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) return refuse('its images hold values that are not numbers (NaN or infinite) for ordinary latents', 'Export the generator again; check it runs in its own tool.');
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let range: OnnxRange;
  if (o.range !== undefined) range = o.range;
  else {
    let fromGraph: { range: OnnxRange; why: string } | null = null;
    try {
      // The studio's own export says what it makes (its atelier.json, in the file's metadata).
      const info = readOnnxMetadata(bytes).get(ATELIER_JSON);
      if (info !== undefined && (JSON.parse(info) as { format?: string }).format === ATELIER_FORMAT) fromGraph = { range: '[-1,1]', why: `its ${ATELIER_JSON}: a GAN Atelier export` };
      const op = fromGraph === null ? rangeFromGraph(readOnnxNodes(bytes), out.name) : null;
      if (op !== null) fromGraph = { range: op, why: 'its last operator' };
    } catch {
      // ONNX Runtime loaded what this small reader cannot follow: measure instead.
    }
    if (fromGraph !== null) {
      range = fromGraph.range;
      inferred.push(`value range ${range} (${fromGraph.why})`);
    } else {
      // Negative values only come from [−1, 1]; beyond 2, from [0, 255].
      range = lo < -0.05 ? '[-1,1]' : hi > 2 ? '[0,255]' : '[0,1]';
      inferred.push(`value range ${range} (measured: ${PROBE} images from ${lo.toPrecision(3)} to ${hi.toPrecision(3)})`);
    }
  }
  const description: Omit<OnnxDescription, 'preview'> = {
    path,
    label: o.label ?? basename(path),
    sha256: sha256(bytes),
    latent: { name: latIn.name, size: zSize },
    cls,
    classIndex,
    output: { name: out.name, layout, resolution, channels },
    range,
    constants,
    batchLimit,
    inferred,
  };
  const pixels = await readFloatsAndDispose(tf.tidy(() => imagesFrom(values, PROBE, description).clipByValue(-1, 1).add(1).mul(127.5).round()));
  return { ...description, preview: { pixels: Uint8Array.from(pixels), count: PROBE, resolution, channels } };
}

/** Describes an ONNX generator without keeping it open: what `OnnxSource.open` would use, and the probe's images. */
export async function inspectOnnx(path: string, o: OnnxSourceOptions = {}): Promise<OnnxDescription> {
  const source = await OnnxSource.open(path, o);
  const d = source.description;
  source.dispose();
  return d;
}
