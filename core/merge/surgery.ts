/**
 * Weight surgery for merging, on named float32 arrays (no TF.js, so every step is exact and
 * checked in plain JavaScript):
 *
 *   averageTensors   the element-wise mean of several networks of one architecture (each value
 *                    summed in float64, divided once, rounded once to float32)
 *   extendClasses    a network made conditional on N classes (or given more classes): every
 *                    tensor whose shape stays is copied bit for bit; a tensor that grows keeps its
 *                    old part bit for bit and gets new random-normal rows/columns drawn as the
 *                    network initialises them (GAN Cocktail: new embedding columns random-normal)
 *   collapseToClass  a conditional network fixed to one of its classes, as an unconditional one
 *                    that computes the same images and logits (a conditional root is rooted so)
 *
 * Names are the networks' own ('G.mapping.fc0.weight', 'D.b4.out.bias', …), shapes channels-last
 * and dense weights [in, out] (core/nets). The class embedding enters G's mapping concatenated to
 * z, so an unconditional G's first mapping layer has zDim inputs and a conditional one zDim + wDim;
 * D's projection head gives a cmapDim vector dotted with the class embedding instead of one logit.
 */
import { channelsAt, type NetConfig, resolveNetConfig } from '../nets/config.js';
import { seedToZ } from '../generator/latents.js';
import type { NamedArray } from '../nets/checkpoint-format.js';
import { hashInts } from '../random/rng.js';

export type Tensors = ReadonlyMap<string, NamedArray>;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

function need(t: Tensors, name: string, what: string): NamedArray {
  const v = t.get(name);
  if (v === undefined) throw new Error(`${what} has no ${name}`);
  return v;
}

/**
 * The element-wise mean of `models` (every parameter and buffer: G's tracked average w and fixed
 * noise too). All must have the same names and shapes; `labels` name them in errors.
 */
export function averageTensors(models: readonly Tensors[], labels: readonly string[] = models.map((_, i) => `network ${i + 1}`)): Map<string, NamedArray> {
  if (models.length === 0) throw new Error('averageTensors: no networks');
  const first = models[0]!;
  for (let m = 1; m < models.length; m++) {
    const other = models[m]!;
    if (other.size !== first.size) throw new Error(`${labels[m]} has ${other.size} tensors, ${labels[0]} ${first.size}: not the same architecture`);
    for (const [name, t] of first) {
      const o = other.get(name);
      if (o === undefined) throw new Error(`${labels[m]} has no ${name}: not the same architecture as ${labels[0]}`);
      if (!sameShape(o.shape, t.shape)) throw new Error(`${name} is [${o.shape.join(', ')}] in ${labels[m]} but [${t.shape.join(', ')}] in ${labels[0]}`);
    }
  }
  const k = models.length;
  const out = new Map<string, NamedArray>();
  for (const [name, t] of first) {
    const n = t.data.length;
    const acc = new Float64Array(n);
    for (const m of models) {
      const d = m.get(name)!.data;
      for (let i = 0; i < n; i++) acc[i]! += d[i]!;
    }
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = acc[i]! / k;
    out.set(name, { name, shape: [...t.shape], data });
  }
  return out;
}

/** `count` standard normals for one tensor, from the seed and its name (the same every time). */
function normals(seed: number, name: string, count: number, std: number): Float32Array {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = hashInts(h, name.charCodeAt(i));
  const z = seedToZ(hashInts(seed, h), count);
  if (std !== 1) for (let i = 0; i < count; i++) z[i] = z[i]! * std;
  return z;
}

/**
 * A [rows, cols] matrix grown to [newRows, newCols]: the old block copied bit for bit into the top
 * left, the rest from `fill` (row-major, newRows·newCols values; only the new cells are read).
 */
function growMatrix(old: NamedArray, newRows: number, newCols: number, fill: Float32Array): Float32Array {
  const [rows, cols] = old.shape as [number, number];
  const out = Float32Array.from(fill);
  for (let r = 0; r < rows; r++) out.set(old.data.subarray(r * cols, (r + 1) * cols), r * newCols);
  if (rows > newRows || cols > newCols) throw new Error(`growMatrix: [${rows}, ${cols}] does not fit [${newRows}, ${newCols}]`);
  return out;
}

export interface Extended {
  net: NetConfig;
  G: Map<string, NamedArray>;
  D: Map<string, NamedArray> | null;
}

/**
 * G (and D, if given) of `net` made conditional on `numClasses` classes (at least the classes it
 * has). New values are drawn from `seed`:
 *   G.mapping.embed   [k, wDim] → [N, wDim]: the k rows kept, N − k new N(0, 1) rows; bias kept (or 0)
 *   G.mapping.fc0     from unconditional only: [zDim, wDim] → [zDim + wDim, wDim]; the embedding's
 *                     wDim new input rows N(0, 1/lrMul²) as the layer initialises them, and the z
 *                     rows rescaled by √((zDim + wDim)/zDim): the equalised learning rate scales a
 *                     layer's weights by lrMul/√fan-in at run time, so this keeps exactly what z
 *                     contributes; the class then adds to it
 *   D.mapping.embed   [k, cmapDim] → [N, cmapDim] as G's
 *   D.b4.out          from unconditional only: [C4, 1] → [C4, cmapDim]: the old logit's column kept
 *                     as column 0, the others N(0, 1); bias [1] → [cmapDim], the rest 0
 * Everything else is copied bit for bit.
 */
export function extendClasses(net: NetConfig, G: Tensors, D: Tensors | null, numClasses: number, seed: number): Extended {
  const k = net.numClasses;
  if (!Number.isInteger(numClasses) || numClasses < Math.max(1, k)) throw new Error(`extendClasses: ${numClasses} classes for a network with ${k}`);
  const to = resolveNetConfig({ ...net, numClasses });
  const wDim = net.wDim;
  const zDim = net.zDim;
  const outG = new Map<string, NamedArray>();
  for (const [name, t] of G) outG.set(name, { name, shape: [...t.shape], data: Float32Array.from(t.data) });

  // G's class embedding.
  const embedW = 'G.mapping.embed.weight';
  const embedB = 'G.mapping.embed.bias';
  const oldEmbed = k > 0 ? need(G, embedW, 'G') : { name: embedW, shape: [0, wDim], data: new Float32Array(0) };
  outG.set(embedW, { name: embedW, shape: [numClasses, wDim], data: growMatrix(oldEmbed, numClasses, wDim, normals(seed, embedW, numClasses * wDim, 1)) });
  outG.set(embedB, k > 0 ? { ...need(G, embedB, 'G'), data: Float32Array.from(need(G, embedB, 'G').data) } : { name: embedB, shape: [wDim], data: new Float32Array(wDim) });

  // G's first mapping layer takes the embedding as wDim more inputs.
  if (k === 0) {
    const fc0 = need(G, 'G.mapping.fc0.weight', 'G');
    if (!sameShape(fc0.shape, [zDim, wDim])) throw new Error(`G.mapping.fc0.weight is [${fc0.shape.join(', ')}], expected [${zDim}, ${wDim}]`);
    const fill = normals(seed, fc0.name, (zDim + wDim) * wDim, 1 / net.mappingLrMul);
    const data = growMatrix({ ...fc0, shape: [zDim, wDim] }, zDim + wDim, wDim, fill);
    const keep = Math.sqrt((zDim + wDim) / zDim);
    for (let i = 0; i < zDim * wDim; i++) data[i] = data[i]! * keep;
    outG.set(fc0.name, { name: fc0.name, shape: [zDim + wDim, wDim], data });
  }
  // Parameters in the network's own order (a Generator lists them so; checkpoints keep that order).
  const orderedG = reorder(outG, (n) => n.startsWith('G.mapping.embed.') ? 0 : 1);

  let outD: Map<string, NamedArray> | null = null;
  if (D !== null) {
    const c4 = channelsAt(net, 4);
    const cmapDim = net.cmapDim > 0 ? net.cmapDim : c4;
    outD = new Map<string, NamedArray>();
    for (const [name, t] of D) outD.set(name, { name, shape: [...t.shape], data: Float32Array.from(t.data) });
    if (k === 0) {
      const w = need(D, 'D.b4.out.weight', 'D');
      const b = need(D, 'D.b4.out.bias', 'D');
      if (!sameShape(w.shape, [c4, 1])) throw new Error(`D.b4.out.weight is [${w.shape.join(', ')}], expected [${c4}, 1]`);
      outD.set(w.name, { name: w.name, shape: [c4, cmapDim], data: growMatrix(w, c4, cmapDim, normals(seed, w.name, c4 * cmapDim, 1)) });
      const bias = new Float32Array(cmapDim);
      bias[0] = b.data[0]!;
      outD.set(b.name, { name: b.name, shape: [cmapDim], data: bias });
    }
    const dW = 'D.mapping.embed.weight';
    const dB = 'D.mapping.embed.bias';
    const oldD = k > 0 ? need(D, dW, 'D') : { name: dW, shape: [0, cmapDim], data: new Float32Array(0) };
    outD.set(dW, { name: dW, shape: [numClasses, cmapDim], data: growMatrix(oldD, numClasses, cmapDim, normals(seed, dW, numClasses * cmapDim, 1)) });
    outD.set(dB, k > 0 ? { ...need(D, dB, 'D'), data: Float32Array.from(need(D, dB, 'D').data) } : { name: dB, shape: [cmapDim], data: new Float32Array(cmapDim) });
  }
  return { net: to, G: orderedG, D: outD };
}

/** The map with the entries of rank 0 first, then the rest, each in their old order. */
function reorder(m: Map<string, NamedArray>, rank: (name: string) => number): Map<string, NamedArray> {
  const entries = [...m.entries()];
  entries.sort((a, b) => rank(a[0]) - rank(b[0]));
  return new Map(entries);
}

/** x / √(mean(x²) + 1e-8), as core/nets/layers.ts normalize2ndMoment, in float64. */
function normalize(x: Float64Array): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const s = 1 / Math.sqrt(ms / x.length + 1e-8);
  return x.map((v) => v * s);
}

/** A dense layer's output for a one-hot input: row c of the weight × gain + bias, in float64. */
function embedRow(w: NamedArray, b: NamedArray, c: number, gain: number): Float64Array {
  const [, out] = w.shape as [number, number];
  const row = new Float64Array(out);
  for (let j = 0; j < out; j++) row[j] = w.data[c * out + j]! * gain + b.data[j]!;
  return row;
}

/**
 * A conditional G (and D) fixed to class `classIndex`, as unconditional networks computing the
 * same images (and logits), up to float rounding. The class's embedding is a constant input to
 * G's first mapping layer, so its part of that layer folds into the bias (and the z rows are
 * rescaled for the smaller fan-in); D's projection onto a constant embedding is one linear logit.
 */
export function collapseToClass(net: NetConfig, G: Tensors, D: Tensors | null, classIndex: number): Extended {
  const k = net.numClasses;
  if (k === 0) throw new Error('collapseToClass: the network is unconditional already');
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= k) throw new Error(`collapseToClass: class ${classIndex} of ${k}`);
  const to = resolveNetConfig({ ...net, numClasses: 0 });
  const { zDim, wDim } = net;

  // G: e = normalize(embed(c)); fc0(x) = [x_z, e]·W·lrMul/√(z+w) + b·lrMul
  //   = x_z·(W_z·√(z/(z+w)))·lrMul/√z + (b + e·W_e/√(z+w))·lrMul.
  const e = normalize(embedRow(need(G, 'G.mapping.embed.weight', 'G'), need(G, 'G.mapping.embed.bias', 'G'), classIndex, 1 / Math.sqrt(k)));
  const fc0 = need(G, 'G.mapping.fc0.weight', 'G');
  const fc0b = need(G, 'G.mapping.fc0.bias', 'G');
  const inAll = zDim + wDim;
  const scaleZ = Math.sqrt(zDim / inAll);
  const weight = new Float32Array(zDim * wDim);
  for (let i = 0; i < zDim * wDim; i++) weight[i] = fc0.data[i]! * scaleZ;
  const bias = new Float32Array(wDim);
  for (let j = 0; j < wDim; j++) {
    let s = 0;
    for (let i = 0; i < wDim; i++) s += e[i]! * fc0.data[(zDim + i) * wDim + j]!;
    bias[j] = fc0b.data[j]! + s / Math.sqrt(inAll);
  }
  const outG = new Map<string, NamedArray>();
  for (const [name, t] of G) {
    if (name.startsWith('G.mapping.embed.')) continue;
    if (name === fc0.name) outG.set(name, { name, shape: [zDim, wDim], data: weight });
    else if (name === fc0b.name) outG.set(name, { name, shape: [wDim], data: bias });
    else outG.set(name, { name, shape: [...t.shape], data: Float32Array.from(t.data) });
  }

  let outD: Map<string, NamedArray> | null = null;
  if (D !== null) {
    // D: logit = (h·W·g + b)·cmap/√d = h·(W·cmap/√d)·g + b·cmap/√d, cmap = normalize(embed(c)).
    const w = need(D, 'D.b4.out.weight', 'D');
    const b = need(D, 'D.b4.out.bias', 'D');
    const [c4, d] = w.shape as [number, number];
    const cmap = normalize(embedRow(need(D, 'D.mapping.embed.weight', 'D'), need(D, 'D.mapping.embed.bias', 'D'), classIndex, 1 / Math.sqrt(k)));
    const ow = new Float32Array(c4);
    for (let i = 0; i < c4; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += w.data[i * d + j]! * cmap[j]!;
      ow[i] = s / Math.sqrt(d);
    }
    let sb = 0;
    for (let j = 0; j < d; j++) sb += b.data[j]! * cmap[j]!;
    outD = new Map<string, NamedArray>();
    for (const [name, t] of D) {
      if (name.startsWith('D.mapping.embed.')) continue;
      if (name === w.name) outD.set(name, { name, shape: [c4, 1], data: ow });
      else if (name === b.name) outD.set(name, { name, shape: [1], data: Float32Array.of(sb / Math.sqrt(d)) });
      else outD.set(name, { name, shape: [...t.shape], data: Float32Array.from(t.data) });
    }
  }
  return { net: to, G: outG, D: outD };
}

/** Checks that `t` holds exactly the tensors of `expected` (names and shapes); says what differs. */
export function sameArchitecture(t: Tensors, expected: ReadonlyMap<string, readonly number[]>): string | null {
  for (const [name, shape] of expected) {
    const got = t.get(name);
    if (got === undefined) return `no ${name}`;
    if (!sameShape(got.shape, shape)) return `${name} is [${got.shape.join(', ')}], expected [${shape.join(', ')}]`;
    if (got.data.length !== sizeOf(shape)) return `${name} has ${got.data.length} values`;
  }
  for (const name of t.keys()) if (!expected.has(name)) return `an unexpected ${name}`;
  return null;
}
