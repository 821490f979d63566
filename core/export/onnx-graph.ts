/**
 * A GeneratorGraph as an ONNX model (IR version 8, opset 17), written with core/export/protobuf.ts.
 * Same inputs and output as the TF.js export, channels-last: z [N, zDim], class [N, K] (conditional
 * generators only), psi [] → image [N, R, R, C].
 *
 * Lowering of what ONNX says differently:
 *   conv2d (NHWC, HWIO)  Transpose → Conv (NCHW, OIHW; the filter transposed once) → Transpose
 *   rsqrt                Reciprocal(Sqrt(x));  square: Mul(x, x)
 *   nearest 2×           Reshape [N, H, 1, W, 1, C] → Expand ×2 → Reshape [N, 2H, 2W, C]
 *   bilinear 2×          per axis: 0.25·prev + 0.75·x and 0.75·x + 0.25·next (edges replicated),
 *                        interleaved — TF's resizeBilinear with half-pixel centres, spelled out
 */
import type { GeneratorGraph, GraphNode } from './generator-graph.js';
import { ProtoWriter } from './protobuf.js';

export const ONNX_OPSET = 17;
const IR_VERSION = 8;
const FLOAT = 1;
const INT64 = 7;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Attr = { name: string; f: number } | { name: string; i: number } | { name: string; ints: number[] };

function attribute(a: Attr): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  if ('f' in a) w.float(2, a.f).int(20, ATTR_FLOAT);
  else if ('i' in a) w.int(3, a.i).int(20, ATTR_INT);
  else w.packedInts(8, a.ints).int(20, ATTR_INTS);
  return w;
}

function valueInfo(name: string, shape: readonly number[]): ProtoWriter {
  const dims = new ProtoWriter();
  for (const d of shape) dims.message(1, d === -1 ? new ProtoWriter().string(2, 'batch') : new ProtoWriter().int(1, d));
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, dims);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

export interface OnnxOptions {
  /** `values(name)`: a parameter's float32 values. */
  values: (name: string) => Float32Array;
  producerVersion: string;
  /** Key/value metadata stored in the model (e.g. the GeneratorMeta as JSON). */
  metadata?: Record<string, string>;
  docString?: string;
}

/** The ONNX ModelProto bytes of a generator graph. */
export function graphToOnnx(graph: GeneratorGraph, o: OnnxOptions): Uint8Array {
  const nodes: ProtoWriter[] = [];
  const initializers: ProtoWriter[] = [];
  const intConsts = new Map<string, string>();
  const transposedFilters = new Map<string, string>();
  let counter = 0;
  const fresh = (hint: string): string => `${hint}/onnx${counter++}`;
  const shapeOf = (v: string): number[] => {
    const s = graph.shapes.get(v);
    if (s === undefined) throw new Error(`ONNX export: no shape for ${v}`);
    return s;
  };

  const node = (opType: string, inputs: string[], output: string, attrs: Attr[] = []): string => {
    const w = new ProtoWriter();
    for (const i of inputs) w.string(1, i);
    w.string(2, output).string(3, output).string(4, opType);
    for (const a of attrs) w.message(5, attribute(a));
    nodes.push(w);
    return output;
  };
  const floatInit = (name: string, dims: number[], data: Float32Array): void => {
    const t = new ProtoWriter();
    if (dims.length > 0) t.packedInts(1, dims);
    t.int(2, FLOAT).string(8, name).bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    initializers.push(t);
  };
  const int64s = (values: readonly number[]): string => {
    const key = values.join(',');
    let name = intConsts.get(key);
    if (name === undefined) {
      name = `int64/${intConsts.size}`;
      intConsts.set(key, name);
      const data = new BigInt64Array(values.map((v) => BigInt(v)));
      initializers.push(new ProtoWriter().packedInts(1, [values.length]).int(2, INT64).string(8, name).bytes(9, new Uint8Array(data.buffer)));
    }
    return name;
  };
  let scalarCount = 0;
  const scalar = (value: number): string => {
    const name = `float/${scalarCount++}`;
    floatInit(name, [], Float32Array.of(value));
    return name;
  };
  const slice = (x: string, axis: number, start: number, end: number): string => node('Slice', [x, int64s([start]), int64s([end]), int64s([axis])], fresh('slice'));

  /** TF's resizeBilinear(half-pixel) 2× along one axis of [N, H, W, C]. */
  const bilinearAxis = (x: string, shape: number[], axis: 1 | 2): { value: string; shape: number[] } => {
    const len = shape[axis]!;
    const first = slice(x, axis, 0, 1);
    const last = slice(x, axis, len - 1, len);
    const prev = len === 1 ? first : node('Concat', [first, slice(x, axis, 0, len - 1)], fresh('prev'), [{ name: 'axis', i: axis }]);
    const next = len === 1 ? last : node('Concat', [slice(x, axis, 1, len), last], fresh('next'), [{ name: 'axis', i: axis }]);
    const q = scalar(0.25);
    const tq = scalar(0.75);
    const even = node('Add', [node('Mul', [prev, q], fresh('mul')), node('Mul', [x, tq], fresh('mul'))], fresh('even'));
    const odd = node('Add', [node('Mul', [x, tq], fresh('mul')), node('Mul', [next, q], fresh('mul'))], fresh('odd'));
    const [, h, w, c] = shape as [number, number, number, number];
    const split = axis === 1 ? [-1, h, 1, w, c] : [-1, h, w, 1, c];
    const pair = node('Concat', [node('Reshape', [even, int64s(split)], fresh('reshape')), node('Reshape', [odd, int64s(split)], fresh('reshape'))], fresh('interleave'), [{ name: 'axis', i: axis + 1 }]);
    const outShape = axis === 1 ? [-1, h * 2, w, c] : [-1, h, w * 2, c];
    return { value: node('Reshape', [pair, int64s(outShape)], fresh('reshape')), shape: outShape };
  };

  const emit = (n: GraphNode): void => {
    switch (n.op) {
      case 'input':
        return;
      case 'weight':
        floatInit(n.name, n.shape, o.values(n.name));
        return;
      case 'scalar':
        floatInit(n.name, [], Float32Array.of(n.value));
        return;
      case 'matmul':
        node('MatMul', n.inputs, n.name);
        return;
      case 'add':
      case 'sub':
      case 'mul':
        node(n.op === 'add' ? 'Add' : n.op === 'sub' ? 'Sub' : 'Mul', n.inputs, n.name);
        return;
      case 'square':
        node('Mul', [n.inputs[0], n.inputs[0]], n.name);
        return;
      case 'rsqrt':
        node('Reciprocal', [node('Sqrt', n.inputs, fresh('sqrt'))], n.name);
        return;
      case 'leakyRelu':
        node('LeakyRelu', n.inputs, n.name, [{ name: 'alpha', f: n.alpha }]);
        return;
      case 'mean':
        node('ReduceMean', n.inputs, n.name, [
          { name: 'axes', ints: n.axes },
          { name: 'keepdims', i: n.keepDims ? 1 : 0 },
        ]);
        return;
      case 'sum':
        node('ReduceSum', [n.inputs[0], int64s(n.axes)], n.name, [{ name: 'keepdims', i: n.keepDims ? 1 : 0 }]);
        return;
      case 'concat':
        node('Concat', n.inputs, n.name, [{ name: 'axis', i: n.axis }]);
        return;
      case 'reshape':
        node('Reshape', [n.inputs[0], int64s(n.shape)], n.name);
        return;
      case 'conv2d': {
        const [x, filter] = n.inputs;
        const [k] = shapeOf(filter) as [number, number, number, number];
        let wT = transposedFilters.get(filter);
        if (wT === undefined) {
          wT = node('Transpose', [filter], `${filter}/oihw`, [{ name: 'perm', ints: [3, 2, 0, 1] }]);
          transposedFilters.set(filter, wT);
        }
        const pad = (k - 1) / 2;
        const xT = node('Transpose', [x], fresh('nchw'), [{ name: 'perm', ints: [0, 3, 1, 2] }]);
        const y = node('Conv', [xT, wT], fresh('conv'), [
          { name: 'kernel_shape', ints: [k, k] },
          { name: 'pads', ints: [pad, pad, pad, pad] },
          { name: 'strides', ints: [1, 1] },
        ]);
        node('Transpose', [y], n.name, [{ name: 'perm', ints: [0, 2, 3, 1] }]);
        return;
      }
      case 'upNearest2x': {
        const [, h, w, c] = shapeOf(n.inputs[0]) as [number, number, number, number];
        const split = node('Reshape', [n.inputs[0], int64s([-1, h, 1, w, 1, c])], fresh('reshape'));
        const grown = node('Expand', [split, int64s([1, 1, 2, 1, 2, 1])], fresh('expand'));
        node('Reshape', [grown, int64s([-1, h * 2, w * 2, c])], n.name);
        return;
      }
      case 'upBilinear2x': {
        const shape = shapeOf(n.inputs[0]);
        const rows = bilinearAxis(n.inputs[0], shape, 1);
        const both = bilinearAxis(rows.value, rows.shape, 2);
        node('Identity', [both.value], n.name);
        return;
      }
      case 'identity':
        node('Identity', n.inputs, n.name);
        return;
    }
  };
  for (const n of graph.nodes) emit(n);

  const g = new ProtoWriter();
  for (const n of nodes) g.message(1, n);
  g.string(2, 'gan_atelier_generator');
  for (const t of initializers) g.message(5, t);
  if (o.docString) g.string(10, o.docString);
  g.message(11, valueInfo(graph.inputs.z, shapeOf(graph.inputs.z)));
  if (graph.inputs.class !== null) g.message(11, valueInfo(graph.inputs.class, shapeOf(graph.inputs.class)));
  g.message(11, valueInfo(graph.inputs.psi, []));
  g.message(12, valueInfo(graph.output, shapeOf(graph.output)));

  const model = new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, 'GAN Atelier')
    .string(3, o.producerVersion)
    .string(4, 'dev.ganatelier')
    .int(5, 1);
  if (o.docString) model.string(6, o.docString);
  model.message(7, g).message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(o.metadata ?? {})) model.message(14, new ProtoWriter().string(1, key).string(2, value));
  return model.finish();
}
