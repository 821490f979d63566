/**
 * Export 3: a standalone sampler — one folder that, opened from disk in any current browser,
 * draws the generator for a seed, ψ and class, offline:
 *
 *   index.html           the page (a strict CSP: nothing is fetched)
 *   tf.min.js            TensorFlow.js, copied from the studio's own @tensorflow/tfjs
 *   tf-setup.js          declares a global tf.min.js would otherwise make with eval
 *   atelier-latents.js   seed → z exactly as the studio draws it
 *   model.js             the GraphModel (as in the TF.js export), weights inlined as base64:
 *                        browsers do not let a page opened from disk read files beside it
 *   sampler.js           the page's logic
 *   atelier.json, README.txt
 */
import { createRequire } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportResult } from '../api/contract.js';
import { asset, ATELIER_JSON, atelierJson, type ExportableGenerator, LATENTS_FILE } from './generator-files.js';
import { writeAtomically } from './output.js';
import { tfjsModel } from './tfjs-export.js';

const require = createRequire(import.meta.url);

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(g: ExportableGenerator): string {
  const n = g.meta.net;
  const name = escapeHtml(g.label);
  const scale = Math.max(1, Math.floor(384 / n.resolution));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:">
<title>${name} · GAN Atelier sampler</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
  main { max-width: 720px; margin: 32px auto; padding: 0 20px; }
  h1 { font-size: 1.4rem; margin: 0 0 4px; }
  .about { margin: 0 0 20px; color: #5b6474; }
  canvas { display: block; width: ${n.resolution * scale}px; max-width: 100%; image-rendering: pixelated; background: #fff; border: 1px solid #d8dce3; border-radius: 6px; }
  form { display: flex; flex-wrap: wrap; gap: 12px 18px; align-items: center; margin: 18px 0 8px; }
  label { display: flex; gap: 8px; align-items: center; }
  input[type=number] { width: 9em; }
  button { padding: 4px 10px; }
  #status { color: #5b6474; min-height: 1.5em; }
  body[data-state=error] #status { color: #b42318; }
</style>
</head>
<body data-state="loading">
<main>
<h1>${name}</h1>
<p class="about">${n.resolution}×${n.resolution} ${g.meta.colourMode === 'grayscale' ? 'grayscale' : 'RGB'}${n.numClasses > 0 ? `, ${n.numClasses} classes` : ''}. Exported from GAN Atelier; works offline, nothing is sent anywhere. The same seed, ψ and class give the studio’s image (graphics cards may round the last bit differently).</p>
<canvas id="image" width="${n.resolution}" height="${n.resolution}" role="img" aria-label="Generated image"></canvas>
<form id="controls">
  <label>Seed <input id="seed" type="number" min="0" max="4294967295" step="1" value="0" inputmode="numeric"></label>
  <button type="button" id="prev" aria-label="Previous seed">◀</button>
  <button type="button" id="next" aria-label="Next seed">▶</button>
  <button type="button" id="random">Random seed</button>
  <label>ψ <input id="psi" type="range" min="0" max="1.5" step="0.05" value="1"><output id="psi-value">1.00</output></label>
  <label id="class-field">Class <select id="class"></select></label>
</form>
<p id="status" role="status">Loading the generator…</p>
</main>
<script src="tf-setup.js"></script>
<script src="tf.min.js"></script>
<script src="${LATENTS_FILE}"></script>
<script src="model.js"></script>
<script src="sampler.js"></script>
</body>
</html>
`;
}

const README = (g: ExportableGenerator): string => `${g.label} — a standalone sampler exported by GAN Atelier

Open index.html in a browser (double-click it). It runs the generator with TensorFlow.js
(tf.min.js, included) on this computer; it needs no network and sends nothing anywhere.

Pick a seed, ψ (truncation: lower gives more typical images) and, for a conditional model, a
class. The same seed, ψ and class give the same image as the studio.

The folder can be copied or put on any web server as it is.
`;

export async function writeHtmlExport(out: string, g: ExportableGenerator, o: { overwrite: boolean; studioVersion: string; forceHint?: string }): Promise<ExportResult> {
  const m = tfjsModel(g, o.studioVersion);
  const info = atelierJson(g, { kind: 'html', studioVersion: o.studioVersion, files: {} });
  const { generator: _g, files: _f, ...pageInfo } = info;
  const modelJs = `// ${g.label}: the generator as a TensorFlow.js GraphModel, weights as base64 (GAN Atelier).\nwindow.ATELIER_MODEL = ${JSON.stringify({
    info: pageInfo,
    modelTopology: m.modelJson.modelTopology,
    weightSpecs: m.weightSpecs,
    weights: Buffer.from(m.weightData.buffer, m.weightData.byteOffset, m.weightData.byteLength).toString('base64'),
  })};\n`;
  const files: Array<[string, Uint8Array | string]> = [
    ['index.html', page(g)],
    // tf.min.js sets a global `regeneratorRuntime`, falling back to eval when it is undeclared;
    // the page's CSP forbids eval, so it is declared first.
    ['tf-setup.js', '// Declared before tf.min.js loads, so TensorFlow.js needs no eval (the page forbids it).\nvar regeneratorRuntime;\n'],
    ['tf.min.js', await readFile(require.resolve('@tensorflow/tfjs/dist/tf.min.js'))],
    [LATENTS_FILE, await asset(LATENTS_FILE)],
    ['model.js', modelJs],
    ['sampler.js', await asset('sampler-page.js')],
    [ATELIER_JSON, `${JSON.stringify(info, null, 2)}\n`],
    ['README.txt', README(g)],
  ];
  return writeAtomically(out, { kind: 'dir', overwrite: o.overwrite, ...(o.forceHint ? { forceHint: o.forceHint } : {}) }, async (tmp) => {
    let bytes = 0;
    for (const [name, data] of files) {
      await writeFile(join(tmp, name), data);
      bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    }
    return { format: 'html', path: out, files: files.map(([n]) => n), bytes };
  });
}
