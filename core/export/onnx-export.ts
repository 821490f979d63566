/**
 * Export 2: the generator as one ONNX file (opset 17), for Python (`onnxruntime`), C++, C#, … It
 * is checked before it is written: onnxruntime-node runs it on fixed inputs (8 seeds, ψ 1 and 0.7,
 * every class) and its images must match the studio's TF.js images within ONNX_TOLERANCE;
 * otherwise nothing is written and the error says by how much they differ.
 */
import { writeFile } from 'node:fs/promises';
import type * as OnnxRuntimeModule from 'onnxruntime-node';
import type { ExportResult } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { seedToZ } from '../generator/latents.js';
import { oneHot } from '../generator/sampler.js';
import { ATELIER_JSON, atelierJson, type ExportableGenerator, graphOf, valuesOf } from './generator-files.js';
import { GRAPH_NAMES } from './generator-graph.js';
import { graphToOnnx } from './onnx-graph.js';
import { writeAtomically } from './output.js';


/**
 * Largest difference allowed between ONNX Runtime's and TF.js's images, on images in about
 * [−1, 1]: an eighth of one 8-bit grey level (2/255), far below what an eye or a PNG can show.
 * (Measured: ~5e-6 on small nets; different kernels sum in a different order.)
 */
export const ONNX_TOLERANCE = 1e-3;

/** One fixed input of the check: latents of one ψ. */
export interface CheckCase {
  psi: number;
  z: Float32Array[];
  /** One-hot classes (conditional generators), else null. */
  cls: Float32Array[] | null;
}

/** The studio's own images (TF.js, float, [n, R, R, C] flattened) for a case. */
export type Reference = (c: CheckCase) => Promise<Float32Array>;

/** The inputs every ONNX export is checked on: seeds 0–3 at ψ 1, seeds 4–7 at ψ 0.7, classes in turn. */
export function checkCases(g: ExportableGenerator): CheckCase[] {
  const n = g.meta.net;
  const make = (seeds: number[], psi: number): CheckCase => ({
    psi,
    z: seeds.map((s) => seedToZ(s, n.zDim)),
    cls: n.numClasses > 0 ? seeds.map((s) => oneHot(g.meta, s % n.numClasses)!) : null,
  });
  return [make([0, 1, 2, 3], 1), make([4, 5, 6, 7], 0.7)];
}

const flat = (xs: Float32Array[]): Float32Array => {
  const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x, at);
    at += x.length;
  }
  return out;
};

/** Runs ONNX bytes in onnxruntime-node on the fixed cases; the largest difference to the reference. */
export async function checkOnnx(bytes: Uint8Array, g: ExportableGenerator, reference: Reference): Promise<{ maxAbsDiff: number; samples: number }> {
  let ort: typeof OnnxRuntimeModule; // loaded only when an ONNX file is checked
  try {
    ort = await import('onnxruntime-node');
  } catch (err) {
    throw new UserError('unavailable', `ONNX Runtime (onnxruntime-node) could not load here (${(err as Error).message.split('\n')[0]}), so the ONNX file cannot be checked; it was not written. Export TF.js instead.`);
  }
  const session = await ort.InferenceSession.create(bytes);
  const n = g.meta.net;
  let maxAbsDiff = 0;
  let samples = 0;
  try {
    for (const c of checkCases(g)) {
      const count = c.z.length;
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
        [GRAPH_NAMES.z]: new ort.Tensor('float32', flat(c.z), [count, n.zDim]),
        [GRAPH_NAMES.psi]: new ort.Tensor('float32', Float32Array.of(c.psi), []),
      };
      if (c.cls !== null) feeds[GRAPH_NAMES.class] = new ort.Tensor('float32', flat(c.cls), [count, n.numClasses]);
      const out = await session.run(feeds);
      const got = out[GRAPH_NAMES.image]!.data as Float32Array;
      const want = await reference(c);
      if (got.length !== want.length) throw new Error(`ONNX check: ${got.length} values, TF.js ${want.length}`);
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs((got[i] as number) - (want[i] as number));
        if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
      }
      samples += count;
    }
  } finally {
    await session.release();
  }
  return { maxAbsDiff, samples };
}

export async function writeOnnxExport(
  out: string,
  g: ExportableGenerator,
  reference: Reference,
  o: { overwrite: boolean; studioVersion: string; forceHint?: string; tolerance?: number },
): Promise<ExportResult> {
  const tolerance = o.tolerance ?? ONNX_TOLERANCE;
  const info = atelierJson(g, { kind: 'onnx', studioVersion: o.studioVersion, files: {} });
  const { generator: _g, files: _f, wAverage: _w, ...summary } = info;
  const bytes = graphToOnnx(graphOf(g), {
    values: valuesOf(g),
    producerVersion: o.studioVersion,
    docString: `${g.label}: a generator exported by GAN Atelier. Inputs z [N, ${g.meta.net.zDim}]${g.meta.net.numClasses > 0 ? `, class [N, ${g.meta.net.numClasses}] (one-hot)` : ''}, psi []; output image [N, R, R, C] in about [-1, 1].`,
    metadata: { [ATELIER_JSON]: JSON.stringify(summary) },
  });
  const check = await checkOnnx(bytes, g, reference);
  if (!(check.maxAbsDiff <= tolerance)) {
    throw new UserError(
      'internal',
      `The ONNX file for "${g.label}" does not compute the studio's images (largest difference ${check.maxAbsDiff.toExponential(2)}, allowed ${tolerance}); it was not written to ${out}. This is a bug in the studio's ONNX writer: export TF.js instead, and report it.`,
      out,
    );
  }
  return writeAtomically(out, { kind: 'file', overwrite: o.overwrite, ...(o.forceHint ? { forceHint: o.forceHint } : {}) }, async (tmp) => {
    await writeFile(tmp, bytes);
    return { format: 'onnx', path: out, files: [out.split(/[\\/]/).pop()!], bytes: bytes.byteLength, onnxCheck: { maxAbsDiff: check.maxAbsDiff, tolerance, samples: check.samples } };
  });
}
