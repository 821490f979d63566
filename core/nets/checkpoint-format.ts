/**
 * Named float32 tensors (G, D, G_ema, the optimisers' moments) as one Buffer, and back:
 *
 *   "ATLRTNSR" | u32 format | u32 header bytes | header JSON (space-padded to 4 bytes) | float32 data
 *
 * The header lists each tensor's name, shape and offset (in floats) into the data, which is the
 * tensors' values back to back, little-endian. Reading checks every name and shape against what
 * the networks expect and says which one is wrong.
 */
import { endianness } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { readFloats } from '../backend/read.js';

const MAGIC = Buffer.from('ATLRTNSR', 'latin1');
export const TENSOR_FORMAT = 1;
const PREFIX_BYTES = MAGIC.length + 8;

/** One tensor's values, with its name and shape. */
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

interface HeaderEntry {
  name: string;
  shape: number[];
  offset: number;
}

interface Header {
  tensors: HeaderEntry[];
  floats: number;
}

/** A checkpoint that cannot be read, or does not fit the networks it is meant for. */
export class CheckpointFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointFormatError';
  }
}

function assertLittleEndian(): void {
  // Float32Array views use the host's byte order; every platform the studio ships on is little-endian.
  if (endianness() !== 'LE') throw new Error('checkpoints are written little-endian; this host is big-endian');
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Encodes tensors' values, in the order given. Names must be unique. */
export function encodeTensors(entries: readonly NamedArray[]): Buffer {
  assertLittleEndian();
  const seen = new Set<string>();
  let floats = 0;
  const tensors: HeaderEntry[] = entries.map((e) => {
    if (seen.has(e.name)) throw new Error(`encodeTensors: ${e.name} appears twice`);
    seen.add(e.name);
    if (sizeOf(e.shape) !== e.data.length) throw new Error(`encodeTensors: ${e.name} has shape [${e.shape.join(', ')}] but ${e.data.length} values`);
    const entry = { name: e.name, shape: [...e.shape], offset: floats };
    floats += e.data.length;
    return entry;
  });
  const header: Header = { tensors, floats };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((PREFIX_BYTES + json.length) % 4)) % 4;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = Buffer.alloc(PREFIX_BYTES + json.length + floats * 4);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(TENSOR_FORMAT, MAGIC.length);
  out.writeUInt32LE(json.length, MAGIC.length + 4);
  json.copy(out, PREFIX_BYTES);
  const dataStart = PREFIX_BYTES + json.length;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as NamedArray;
    const bytes = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    bytes.copy(out, dataStart + (tensors[i] as HeaderEntry).offset * 4);
  }
  return out;
}

/** Decodes a Buffer from `encodeTensors`; `what` names it in errors ("the checkpoint of run 3"). */
export function decodeTensors(buf: Uint8Array, what = 'the checkpoint'): Map<string, NamedArray> {
  assertLittleEndian();
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < PREFIX_BYTES || !b.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CheckpointFormatError(`${what} is not a GAN Atelier weights file (its first bytes are wrong).`);
  }
  const format = b.readUInt32LE(MAGIC.length);
  if (format !== TENSOR_FORMAT) {
    throw new CheckpointFormatError(`${what} uses weights format ${format}; this version of the studio reads format ${TENSOR_FORMAT}.`);
  }
  const headerBytes = b.readUInt32LE(MAGIC.length + 4);
  if (PREFIX_BYTES + headerBytes > b.length) throw new CheckpointFormatError(`${what} is truncated (its header runs past the end).`);
  let header: Header;
  try {
    header = JSON.parse(b.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes).toString('utf8')) as Header;
  } catch {
    throw new CheckpointFormatError(`${what} is damaged (its header is not readable).`);
  }
  const dataStart = PREFIX_BYTES + headerBytes;
  const expectedBytes = dataStart + header.floats * 4;
  if (b.length !== expectedBytes) {
    throw new CheckpointFormatError(`${what} is ${b.length < expectedBytes ? 'truncated' : 'damaged'}: ${b.length} bytes where its header says ${expectedBytes}.`);
  }
  // One aligned copy of the data (a Buffer from SQLite need not start on a 4-byte boundary).
  const all = new Float32Array(header.floats);
  new Uint8Array(all.buffer).set(b.subarray(dataStart));
  const out = new Map<string, NamedArray>();
  for (const t of header.tensors) {
    const n = sizeOf(t.shape);
    if (t.offset < 0 || t.offset + n > header.floats) throw new CheckpointFormatError(`${what} is damaged: ${t.name} lies outside the data.`);
    out.set(t.name, { name: t.name, shape: t.shape, data: all.subarray(t.offset, t.offset + n) });
  }
  return out;
}

/** A tensor a checkpoint should hold. */
export interface Expected {
  name: string;
  shape: readonly number[];
}

/**
 * Throws unless `decoded` has every expected name with the expected shape. `extra`: 'error' (default)
 * also refuses names nobody expects; 'ignore' lets them be (transfer takes G and D and leaves the rest).
 */
export function checkTensors(decoded: ReadonlyMap<string, NamedArray>, expected: readonly Expected[], what: string, extra: 'error' | 'ignore' = 'error'): void {
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const e of expected) {
    const got = decoded.get(e.name);
    if (!got) missing.push(e.name);
    else if (got.shape.length !== e.shape.length || got.shape.some((d, i) => d !== e.shape[i])) {
      wrong.push(`${e.name} is [${got.shape.join(', ')}], expected [${e.shape.join(', ')}]`);
    }
  }
  const names = new Set(expected.map((e) => e.name));
  const unexpected = extra === 'error' ? [...decoded.keys()].filter((n) => !names.has(n)) : [];
  const list = (xs: string[]): string => xs.slice(0, 3).join('; ') + (xs.length > 3 ? ` (and ${xs.length - 3} more)` : '');
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing ${list(missing)}`);
  if (wrong.length > 0) problems.push(`wrong shape: ${list(wrong)}`);
  if (unexpected.length > 0) problems.push(`not expected: ${list(unexpected)}`);
  if (problems.length > 0) {
    throw new CheckpointFormatError(`${what} does not match these networks (${problems.join('; ')}). Its networks were built with other settings.`);
  }
}

/** Reads tensors' values (asynchronously) as NamedArrays. */
export async function readNamed(entries: ReadonlyArray<{ name: string; tensor: tf.Tensor }>): Promise<NamedArray[]> {
  const values = await Promise.all(entries.map((e) => readFloats(e.tensor)));
  return entries.map((e, i) => ({ name: e.name, shape: [...e.tensor.shape], data: values[i] as Float32Array }));
}

/** Assigns decoded values to variables by name (after `checkTensors`). */
export function assignNamed(decoded: ReadonlyMap<string, NamedArray>, targets: ReadonlyArray<{ name: string; variable: tf.Variable }>): void {
  for (const t of targets) {
    const v = decoded.get(t.name);
    if (!v) throw new CheckpointFormatError(`missing ${t.name}`);
    tf.tidy(() => t.variable.assign(tf.tensor(v.data, v.shape, 'float32')));
  }
}
