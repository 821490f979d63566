/**
 * The generator's forward pass as a plain dataflow graph, for files others can run without the
 * studio: core/export/tfjs-graph.ts writes it as a TensorFlow GraphDef (a TF.js GraphModel),
 * core/export/onnx-graph.ts as an ONNX model. One description, two writers.
 *
 * It mirrors core/nets/generator.ts op for op, in the same order and with the same constants, so
 * the GraphModel computes exactly what the studio's sampler computes on the same backend (tests
 * hold them together):
 *
 *   inputs   z [N, zDim], class [N, numClasses] (one-hot; conditional generators only), psi []
 *   mapping  normalise z (and the class embedding) → MLP → w
 *   ψ        w ← w_avg + (w − w_avg)·psi            (always applied: psi = 1 leaves w as it is)
 *   synthesis with each layer's stored constant noise ('const'): reproducible, no random input
 *   output   image [N, R, R, C], about [−1, 1]
 *
 * Weights are the generator's own parameters, unchanged, under their own names ('G.…'); the
 * equalised-learning-rate gains are scalar constants multiplied in at run time, as in the studio.
 */
import { blockResolutions, channelsAt, type NetConfig } from '../nets/config.js';
import { LRELU_ALPHA, SQRT2 } from '../nets/layers.js';

export type BinaryOp = 'matmul' | 'add' | 'sub' | 'mul';
export type UnaryOp = 'square' | 'rsqrt';

export type GraphNode =
  | { op: 'input'; name: string; shape: number[] }
  | { op: 'weight'; name: string; shape: number[] }
  | { op: 'scalar'; name: string; value: number }
  | { op: BinaryOp; name: string; inputs: [string, string] }
  | { op: UnaryOp; name: string; inputs: [string] }
  | { op: 'leakyRelu'; name: string; inputs: [string]; alpha: number }
  | { op: 'mean' | 'sum'; name: string; inputs: [string]; axes: number[]; keepDims: boolean }
  | { op: 'concat'; name: string; inputs: string[]; axis: number }
  | { op: 'reshape'; name: string; inputs: [string]; shape: number[] }
  | { op: 'conv2d'; name: string; inputs: [string, string] }
  | { op: 'upNearest2x' | 'upBilinear2x'; name: string; inputs: [string] }
  | { op: 'identity'; name: string; inputs: [string] };

export interface GeneratorGraph {
  nodes: GraphNode[];
  /** Static shapes by value name; −1 is the batch. */
  shapes: Map<string, number[]>;
  inputs: { z: string; class: string | null; psi: string };
  output: string;
  /** The parameters the graph reads, by name, with their shapes (the weights file's contents). */
  weights: Array<{ name: string; shape: number[] }>;
  net: NetConfig;
}

/** Input and output names of exported generators (documented in atelier.json and the README). */
export const GRAPH_NAMES = { z: 'z', class: 'class', psi: 'psi', image: 'image' } as const;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function broadcast(a: readonly number[], b: readonly number[], what: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new Error(`${what}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
  }
  return out;
}

/** Builds nodes with unique names and tracks every value's static shape. */
class Builder {
  readonly nodes: GraphNode[] = [];
  readonly shapes = new Map<string, number[]>();
  readonly weights: Array<{ name: string; shape: number[] }> = [];
  private readonly scalars = new Map<number, string>();
  private counter = 0;

  constructor(private readonly params: ReadonlyMap<string, readonly number[]>) {}

  private fresh(hint: string): string {
    return `${hint}/${this.counter++}`;
  }

  private add<N extends GraphNode>(node: N, shape: number[]): string {
    this.nodes.push(node);
    this.shapes.set(node.name, shape);
    return node.name;
  }

  shape(v: string): number[] {
    const s = this.shapes.get(v);
    if (s === undefined) throw new Error(`generator graph: no value ${v}`);
    return s;
  }

  input(name: string, shape: number[]): string {
    return this.add({ op: 'input', name, shape }, shape);
  }

  weight(name: string): string {
    if (this.shapes.has(name)) return name;
    const shape = this.params.get(name);
    if (shape === undefined) throw new Error(`generator graph: the weights have no ${name}`);
    this.weights.push({ name, shape: [...shape] });
    return this.add({ op: 'weight', name, shape: [...shape] }, [...shape]);
  }

  /** A float32 scalar (deduplicated by value). */
  scalar(value: number): string {
    const f = Math.fround(value);
    const known = this.scalars.get(f);
    if (known !== undefined) return known;
    const name = `const/${this.scalars.size}`;
    this.scalars.set(f, name);
    return this.add({ op: 'scalar', name, value: f }, []);
  }

  binary(op: BinaryOp, a: string, b: string): string {
    const sa = this.shape(a);
    const sb = this.shape(b);
    let shape: number[];
    if (op === 'matmul') {
      if (sa.length !== 2 || sb.length !== 2 || sa[1] !== sb[0]) throw new Error(`generator graph: matmul of [${sa.join(', ')}] and [${sb.join(', ')}]`);
      shape = [sa[0]!, sb[1]!];
    } else {
      shape = broadcast(sa, sb, op);
    }
    return this.add({ op, name: this.fresh(op), inputs: [a, b] }, shape);
  }

  unary(op: UnaryOp, x: string): string {
    return this.add({ op, name: this.fresh(op), inputs: [x] }, [...this.shape(x)]);
  }

  leakyRelu(x: string, alpha: number): string {
    return this.add({ op: 'leakyRelu', name: this.fresh('leaky_relu'), inputs: [x], alpha }, [...this.shape(x)]);
  }

  reduce(op: 'mean' | 'sum', x: string, axes: number[], keepDims: boolean): string {
    const s = this.shape(x);
    const shape = keepDims ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : s.filter((_, i) => !axes.includes(i));
    return this.add({ op, name: this.fresh(op), inputs: [x], axes, keepDims }, shape);
  }

  concat(xs: string[], axis: number): string {
    const shapes = xs.map((x) => this.shape(x));
    const shape = [...shapes[0]!];
    shape[axis] = shapes.reduce((n, s) => n + s[axis]!, 0);
    return this.add({ op: 'concat', name: this.fresh('concat'), inputs: xs, axis }, shape);
  }

  reshape(x: string, shape: number[]): string {
    const from = this.shape(x);
    const known = (s: readonly number[]): number => sizeOf(s.filter((d) => d !== -1));
    if (from.includes(-1) !== shape.includes(-1) || known(from) !== known(shape)) {
      throw new Error(`generator graph: cannot reshape [${from.join(', ')}] to [${shape.join(', ')}]`);
    }
    return this.add({ op: 'reshape', name: this.fresh('reshape'), inputs: [x], shape }, [...shape]);
  }

  conv2d(x: string, filter: string): string {
    const [n, h, w] = this.shape(x) as [number, number, number, number];
    const f = this.shape(filter);
    return this.add({ op: 'conv2d', name: this.fresh('conv2d'), inputs: [x, filter] }, [n, h, w, f[3]!]);
  }

  up(op: 'upNearest2x' | 'upBilinear2x', x: string): string {
    const [n, h, w, c] = this.shape(x) as [number, number, number, number];
    return this.add({ op, name: this.fresh(op === 'upNearest2x' ? 'up_nearest' : 'up_bilinear'), inputs: [x] }, [n, h * 2, w * 2, c]);
  }

  identity(name: string, x: string): string {
    return this.add({ op: 'identity', name, inputs: [x] }, [...this.shape(x)]);
  }
}

/**
 * The generator's graph, from its config and its parameters' names and shapes (as the
 * Generator's ParamStore names them: 'G.mapping.fc0.weight', …). Throws if one is missing.
 */
export function buildGeneratorGraph(net: NetConfig, params: ReadonlyMap<string, readonly number[]>): GeneratorGraph {
  const b = new Builder(params);
  const p = (name: string): string => b.weight(`G.${name}`);

  // x / √(mean(x²) + ε) over the last axis (normalize2ndMoment).
  const normalize = (x: string): string => b.binary('mul', x, b.unary('rsqrt', b.binary('add', b.reduce('mean', b.unary('square', x), [1], true), b.scalar(1e-8))));
  // lrelu with gain: leakyRelu(x, 0.2) · gain.
  const lrelu = (x: string, gain = SQRT2): string => (gain === 1 ? b.leakyRelu(x, LRELU_ALPHA) : b.binary('mul', b.leakyRelu(x, LRELU_ALPHA), b.scalar(gain)));
  // EqualDense: x · (W · lrMul/√in) + bias · lrMul.
  const dense = (name: string, x: string, lrMul: number, activation: 'lrelu' | 'linear'): string => {
    const weight = p(`${name}.weight`);
    const inF = b.shape(weight)[0]!;
    let y = b.binary('matmul', x, b.binary('mul', weight, b.scalar(lrMul / Math.sqrt(inF))));
    const bias = p(`${name}.bias`);
    y = b.binary('add', y, lrMul === 1 ? bias : b.binary('mul', bias, b.scalar(lrMul)));
    return activation === 'lrelu' ? lrelu(y) : y;
  };
  // ModulatedConv: styles scale the input channels; demodulation scales the output channels.
  const modConv = (name: string, x: string, w: string, demodulate: boolean): string => {
    const weight = p(`${name}.weight`); // [k, k, in, out]
    const [k, , inC, outC] = b.shape(weight) as [number, number, number, number];
    let styles = dense(`${name}.affine`, w, 1, 'linear'); // [N, in]
    if (!demodulate) styles = b.binary('mul', styles, b.scalar(1 / Math.sqrt(inC * k * k)));
    let y = b.conv2d(b.binary('mul', x, b.reshape(styles, [-1, 1, 1, inC])), weight);
    if (demodulate) {
      const wsq = b.reduce('sum', b.unary('square', weight), [0, 1], false); // [in, out]
      const dcoefs = b.unary('rsqrt', b.binary('add', b.binary('matmul', b.unary('square', styles), wsq), b.scalar(1e-8))); // [N, out]
      y = b.binary('mul', y, b.reshape(dcoefs, [-1, 1, 1, outC]));
    }
    return y;
  };
  // SynthesisLayer: modulated 3×3 conv → constant noise → bias → lrelu.
  const layer = (name: string, x: string, w: string): string => {
    let y = modConv(name, x, w, true);
    y = b.binary('add', y, b.binary('mul', p(`${name}.noise_const`), p(`${name}.noise_strength`)));
    return lrelu(b.binary('add', y, p(`${name}.bias`)));
  };

  // Mapping.
  const z = b.input(GRAPH_NAMES.z, [-1, net.zDim]);
  const psi = b.input(GRAPH_NAMES.psi, []);
  let cls: string | null = null;
  let x = normalize(z);
  if (net.numClasses > 0) {
    cls = b.input(GRAPH_NAMES.class, [-1, net.numClasses]);
    x = b.concat([x, normalize(dense('mapping.embed', cls, 1, 'linear'))], 1);
  }
  for (let i = 0; i < net.mappingLayers; i++) x = dense(`mapping.fc${i}`, x, net.mappingLrMul, 'lrelu');
  // Truncation, always (psi = 1 is the identity up to rounding).
  const wAvg = p('mapping.w_avg');
  const w = b.binary('add', wAvg, b.binary('mul', b.binary('sub', x, wAvg), psi));

  // Synthesis.
  const c4 = channelsAt(net, 4);
  let h = b.reshape(p('synthesis.b4.const'), [1, 4, 4, c4]);
  let img: string | null = null;
  for (const res of blockResolutions(net.resolution)) {
    const name = `synthesis.b${res}`;
    if (res > 4) {
      h = b.up('upNearest2x', h);
      h = layer(`${name}.conv0`, h, w);
    }
    h = layer(`${name}.conv1`, h, w);
    const rgb = b.binary('add', modConv(`${name}.torgb`, h, w, false), p(`${name}.torgb.bias`));
    img = img === null ? rgb : b.binary('add', b.up('upBilinear2x', img), rgb);
  }
  const output = b.identity(GRAPH_NAMES.image, img!);
  const outShape = b.shape(output);
  if (outShape[1] !== net.resolution || outShape[3] !== net.imageChannels) throw new Error(`generator graph: output [${outShape.join(', ')}]`);
  return { nodes: b.nodes, shapes: b.shapes, inputs: { z, class: cls, psi }, output, weights: b.weights, net };
}
