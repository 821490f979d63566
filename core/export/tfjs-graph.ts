/**
 * A GeneratorGraph as a TF.js GraphModel: a TensorFlow GraphDef in JSON (`modelTopology`, the
 * format tfjs-converter writes) and one binary weights file, which plain `@tensorflow/tfjs`
 * executes with `tf.loadGraphModel` — in a browser from a URL, in Node from a small file handler
 * (core/export/tfjs-export.ts writes one beside the model). Only ops the converter maps onto the
 * same TF.js kernels the studio uses are written (MatMul, Conv2D, ResizeBilinear, …), so the
 * GraphModel computes what the studio computes.
 */
import type { GeneratorGraph, GraphNode } from './generator-graph.js';

/** tf.io.WeightsManifestEntry, without the dependency. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

export interface TfjsGraphModel {
  /** model.json's content (paths filled in by the writer). */
  modelJson: {
    format: 'graph-model';
    generatedBy: string;
    convertedBy: string;
    modelTopology: { node: TfNode[]; library: Record<string, never>; versions: { producer: number } };
    weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
    signature: unknown;
  };
  weightSpecs: WeightSpec[];
  /** The weights file: every tensor of `weightSpecs`, in order, little-endian. */
  weightData: Uint8Array;
}

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

const DT_FLOAT = { type: 'DT_FLOAT' };
const DT_INT32 = { type: 'DT_INT32' };
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const ints = (xs: readonly number[]) => ({ list: { i: xs.map(String) } });
const shapeAttr = (shape: readonly number[]) => ({ shape: { dim: shape.map((d) => ({ size: String(d) })) } });

/** `values(name)`: a parameter's float32 values (the generator's own tensors). */
export function graphToTfjs(graph: GeneratorGraph, values: (name: string) => Float32Array, generatedBy: string): TfjsGraphModel {
  const nodes: TfNode[] = [];
  const specs: WeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  const intConsts = new Map<string, string>();

  const constNode = (name: string, dtype: 'float32' | 'int32', shape: number[], data: Float32Array | Int32Array): void => {
    nodes.push({ name, op: 'Const', attr: { dtype: dtype === 'float32' ? DT_FLOAT : DT_INT32, value: { tensor: { dtype: dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32', tensorShape: shapeAttr(shape).shape } } } });
    specs.push({ name, shape, dtype });
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  };
  /** An int32 vector constant (shapes, axes, sizes), shared by value. */
  const intVector = (values: readonly number[]): string => {
    const key = values.join(',');
    let name = intConsts.get(key);
    if (name === undefined) {
      name = `int/${intConsts.size}`;
      intConsts.set(key, name);
      constNode(name, 'int32', [values.length], Int32Array.from(values));
    }
    return name;
  };
  const intScalar = (value: number): string => {
    const key = `s${value}`;
    let name = intConsts.get(key);
    if (name === undefined) {
      name = `int/${intConsts.size}`;
      intConsts.set(key, name);
      constNode(name, 'int32', [], Int32Array.of(value));
    }
    return name;
  };
  const shapeOf = (v: string): number[] => graph.shapes.get(v)!;

  for (const n of graph.nodes) nodes.push(...emit(n));

  function emit(n: GraphNode): TfNode[] {
    switch (n.op) {
      case 'input':
        return [{ name: n.name, op: 'Placeholder', attr: { dtype: DT_FLOAT, shape: shapeAttr(n.shape) } }];
      case 'weight': {
        const data = values(n.name);
        constNode(n.name, 'float32', n.shape, data);
        return [];
      }
      case 'scalar':
        constNode(n.name, 'float32', [], Float32Array.of(n.value));
        return [];
      case 'matmul':
        return [{ name: n.name, op: 'MatMul', input: n.inputs, attr: { T: DT_FLOAT, transpose_a: { b: false }, transpose_b: { b: false } } }];
      case 'add':
        return [{ name: n.name, op: 'AddV2', input: n.inputs, attr: { T: DT_FLOAT } }];
      case 'sub':
        return [{ name: n.name, op: 'Sub', input: n.inputs, attr: { T: DT_FLOAT } }];
      case 'mul':
        return [{ name: n.name, op: 'Mul', input: n.inputs, attr: { T: DT_FLOAT } }];
      case 'square':
        return [{ name: n.name, op: 'Square', input: n.inputs, attr: { T: DT_FLOAT } }];
      case 'rsqrt':
        return [{ name: n.name, op: 'Rsqrt', input: n.inputs, attr: { T: DT_FLOAT } }];
      case 'leakyRelu':
        return [{ name: n.name, op: 'LeakyRelu', input: n.inputs, attr: { T: DT_FLOAT, alpha: { f: n.alpha } } }];
      case 'mean':
      case 'sum':
        return [{ name: n.name, op: n.op === 'mean' ? 'Mean' : 'Sum', input: [n.inputs[0], intVector(n.axes)], attr: { T: DT_FLOAT, Tidx: DT_INT32, keep_dims: { b: n.keepDims } } }];
      case 'concat':
        return [{ name: n.name, op: 'ConcatV2', input: [...n.inputs, intScalar(n.axis)], attr: { T: DT_FLOAT, Tidx: DT_INT32, N: { i: String(n.inputs.length) } } }];
      case 'reshape':
        return [{ name: n.name, op: 'Reshape', input: [n.inputs[0], intVector(n.shape)], attr: { T: DT_FLOAT, Tshape: DT_INT32 } }];
      case 'conv2d':
        return [
          {
            name: n.name,
            op: 'Conv2D',
            input: n.inputs,
            attr: { T: DT_FLOAT, strides: ints([1, 1, 1, 1]), padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') }, dilations: ints([1, 1, 1, 1]), use_cudnn_on_gpu: { b: true } },
          },
        ];
      case 'upNearest2x':
      case 'upBilinear2x': {
        const [, h, w] = shapeOf(n.inputs[0]) as [number, number, number, number];
        const bilinear = n.op === 'upBilinear2x';
        return [
          {
            name: n.name,
            op: bilinear ? 'ResizeBilinear' : 'ResizeNearestNeighbor',
            input: [n.inputs[0], intVector([h * 2, w * 2])],
            // Nearest: out[i] = x[⌊i/2⌋]; bilinear: half-pixel centres, edges clamped (core/nets/resample.ts).
            attr: { T: DT_FLOAT, align_corners: { b: false }, half_pixel_centers: { b: bilinear } },
          },
        ];
      }
      case 'identity':
        return [{ name: n.name, op: 'Identity', input: n.inputs, attr: { T: DT_FLOAT } }];
    }
  }

  // Consts first: the converter does not care, but people reading the JSON do.
  nodes.sort((a, b) => Number(b.op === 'Const' || b.op === 'Placeholder') - Number(a.op === 'Const' || a.op === 'Placeholder'));
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    weightData.set(c, at);
    at += c.byteLength;
  }
  const tensorInfo = (name: string) => ({ name: `${name}:0`, dtype: 'DT_FLOAT', tensorShape: shapeAttr(shapeOf(name)).shape });
  const signature = {
    inputs: Object.fromEntries(
      [graph.inputs.z, graph.inputs.psi, ...(graph.inputs.class !== null ? [graph.inputs.class] : [])].map((v) => [v, tensorInfo(v)]),
    ),
    outputs: { [graph.output]: tensorInfo(graph.output) },
  };
  return {
    modelJson: {
      format: 'graph-model',
      generatedBy,
      convertedBy: 'GAN Atelier (core/export/tfjs-graph.ts)',
      modelTopology: { node: nodes, library: {}, versions: { producer: 1395 } },
      weightsManifest: [{ paths: [], weights: specs }],
      signature,
    },
    weightSpecs: specs,
    weightData,
  };
}
