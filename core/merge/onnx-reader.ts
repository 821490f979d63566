/**
 * Just enough of an ONNX file's protobuf to read what ONNX Runtime does not say: the operators
 * (op type, inputs, outputs) of the main graph, so the studio can see which operator makes an
 * output (a final Tanh means images in [−1, 1], a Sigmoid [0, 1]). The wire format: fields are
 * (number << 3 | wire type); wire type 0 a varint, 1 eight bytes, 2 a length and bytes, 5 four.
 *
 *   ModelProto  7: graph (GraphProto)  14: metadata_props (StringStringEntryProto: 1 key, 2 value)
 *   GraphProto  1: node (NodeProto, repeated)
 *   NodeProto   1: input (string, repeated)  2: output (string, repeated)  4: op_type (string)
 */

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.b.length;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.b.length) throw new Error('truncated varint');
      const byte = this.b[this.pos++]!;
      // Past 2⁵³ a number loses bits; lengths and field numbers never get there.
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.b.length) throw new Error('length runs past the end');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`wire type ${wire}`);
    if (this.pos > this.b.length) throw new Error('field runs past the end');
  }

  /** Calls `f(field, wire)` for each field; `f` reads the value or returns false to skip it. */
  fields(f: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key % 8;
      if (!f(field, wire)) this.skip(wire);
    }
  }
}

const text = new TextDecoder('utf-8', { fatal: false });

function readNode(b: Uint8Array): OnnxNode {
  const node: OnnxNode = { opType: '', inputs: [], outputs: [] };
  const r = new Reader(b);
  r.fields((field, wire) => {
    if (wire !== 2) return false;
    if (field === 1) node.inputs.push(text.decode(r.bytes()));
    else if (field === 2) node.outputs.push(text.decode(r.bytes()));
    else if (field === 4) node.opType = text.decode(r.bytes());
    else return false;
    return true;
  });
  return node;
}

/** The main graph's operators, in file order; throws if the bytes are not a protobuf message. */
export function readOnnxNodes(bytes: Uint8Array): OnnxNode[] {
  let graph: Uint8Array | null = null;
  const r = new Reader(bytes);
  r.fields((field, wire) => {
    if (field !== 7 || wire !== 2) return false;
    graph = r.bytes();
    return true;
  });
  if (graph === null) throw new Error('no graph');
  const nodes: OnnxNode[] = [];
  const g = new Reader(graph);
  g.fields((field, wire) => {
    if (field !== 1 || wire !== 2) return false;
    nodes.push(readNode(g.bytes()));
    return true;
  });
  return nodes;
}

/** The model's metadata (key → value), e.g. the atelier.json the studio's own ONNX export carries. */
export function readOnnxMetadata(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const r = new Reader(bytes);
  r.fields((field, wire) => {
    if (field !== 14 || wire !== 2) return false;
    const entry = new Reader(r.bytes());
    let key = '';
    let value = '';
    entry.fields((f, w) => {
      if (w !== 2 || (f !== 1 && f !== 2)) return false;
      if (f === 1) key = text.decode(entry.bytes());
      else value = text.decode(entry.bytes());
      return true;
    });
    out.set(key, value);
    return true;
  });
  return out;
}

/** Operators that leave values as they are (only move or relabel them). */
const PASS_THROUGH = new Set(['Identity', 'Transpose', 'Reshape', 'Cast', 'Squeeze', 'Unsqueeze', 'Flatten', 'Slice', 'Concat']);

/**
 * What the last value-changing operator before `output` says about its range: Tanh → [−1, 1],
 * Sigmoid → [0, 1]; null when it says nothing (the range is then measured).
 */
export function rangeFromGraph(nodes: readonly OnnxNode[], output: string): '[-1,1]' | '[0,1]' | null {
  const producer = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  let name = output;
  for (let hops = 0; hops < 64; hops++) {
    const n = producer.get(name);
    if (n === undefined) return null;
    if (n.opType === 'Tanh') return '[-1,1]';
    if (n.opType === 'Sigmoid') return '[0,1]';
    if (!PASS_THROUGH.has(n.opType) || n.inputs.length === 0) return null;
    // Concat: every input must agree; follow the first (they come from the same kind of layer).
    name = n.inputs[0]!;
  }
  return null;
}
