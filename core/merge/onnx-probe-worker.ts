// Worker entry: reads one ONNX generator (inspectOnnx: its graph, a probe batch), lays the
// probe's images side by side in a PNG, answers once and exits. Run by onnx-probe.ts so the
// service never loads ONNX Runtime or TF.js itself, and a slow graph never blocks it.
import * as tf from '@tensorflow/tfjs';
import type { OnnxProbeInfo } from '../api/contract.js';
import { type ApiError, UserError } from '../api/errors.js';
import { encodePng } from '../data/png.js';
import { workerMain } from '../jobs/worker-main.js';
import { pngDataUrl } from '../store/png-data-url.js';
import { inspectOnnx, type OnnxSourceOptions } from './onnx-source.js';

export interface ProbeRequest {
  path: string;
  options?: OnnxSourceOptions;
}
export type ProbeAnswer = { ok: true; value: OnnxProbeInfo } | { ok: false; error: ApiError };

const channel = workerMain<ProbeRequest, ProbeAnswer>('ONNX probe', { sigint: 'default' });

async function probe({ path, options }: ProbeRequest): Promise<OnnxProbeInfo> {
  // The probe's images are a few small tensors: the plain CPU backend is enough and starts at once.
  await tf.setBackend('cpu');
  const d = await inspectOnnx(path, options ?? {});
  const { pixels, count, resolution: r, channels: c } = d.preview; // [count, R, R, C]
  const strip = new Uint8Array(r * count * r * c); // [R, count·R, C]
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < r; y++) strip.set(pixels.subarray(((i * r + y) * r) * c, ((i * r + y) * r + r) * c), (y * count * r + i * r) * c);
  }
  return {
    path: d.path,
    label: d.label,
    latent: d.latent,
    classInput: d.cls === null ? null : { name: d.cls.name, kind: d.cls.kind, count: d.cls.count },
    output: d.output,
    range: d.range,
    constants: Object.fromEntries(Object.entries(d.constants).map(([k, v]) => [k, v.value])),
    inferred: d.inferred,
    preview: { dataUrl: pngDataUrl(encodePng(strip, count * r, r, c as 1 | 3)), count, resolution: r },
  };
}

channel.onMessage((request) => {
  probe(request).then(
    (value) => channel.send({ ok: true, value }, () => process.exit(0)),
    (err: unknown) => {
      const error: ApiError =
        err instanceof UserError ? err.toApiError() : { code: 'internal', message: `Reading ${request.path} failed: ${(err as Error)?.message ?? String(err)}. This is a bug in the studio.`, subject: request.path };
      channel.send({ ok: false, error }, () => process.exit(0));
    },
  );
});
