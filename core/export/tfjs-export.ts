/**
 * Export 1: the generator as a TF.js GraphModel folder that plain `@tensorflow/tfjs` loads, in a
 * browser (`tf.loadGraphModel('…/model.json')`) and in Node (load-node.mjs, shipped beside it):
 *
 *   model.json           GraphDef (JSON) + weights manifest
 *   weights.bin          the generator's parameters, float32, little-endian
 *   atelier.json         what it is and how to use it (and what the studio reads back on import)
 *   atelier-latents.js   seed → z exactly as the studio draws it
 *   load-node.mjs        a loader and sampler for Node
 *   package.json         what load-node.mjs needs (`npm install` there, then `node load-node.mjs 0 1 2`)
 *   README.md
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { version as tfVersion } from '@tensorflow/tfjs';
import type { ExportResult } from '../api/contract.js';
import { asset, ATELIER_JSON, atelierJson, type ExportableGenerator, graphOf, LATENTS_FILE, sha256, valuesOf } from './generator-files.js';
import { writeAtomically } from './output.js';
import { graphToTfjs, type TfjsGraphModel } from './tfjs-graph.js';

export const WEIGHTS_FILE = 'weights.bin';
export const MODEL_FILE = 'model.json';

/** The @tensorflow/tfjs the studio runs: the exported loader asks for the same. */
const TFJS_VERSION = tfVersion.tfjs;

/** package.json of the export folder: `npm install` there gives load-node.mjs its @tensorflow/tfjs. */
function packageJson(g: ExportableGenerator): string {
  const name = g.label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'generator';
  const doc = {
    name: `${name}-tfjs`.slice(0, 200),
    private: true,
    description: `${g.label}: a generator exported by GAN Atelier (load-node.mjs samples it in Node)`,
    type: 'module',
    scripts: { sample: 'node load-node.mjs 0 1 2' },
    dependencies: { '@tensorflow/tfjs': TFJS_VERSION },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The GraphModel of a generator, in memory (the HTML sampler embeds it). */
export function tfjsModel(g: ExportableGenerator, studioVersion: string): TfjsGraphModel {
  const m = graphToTfjs(graphOf(g), valuesOf(g), `GAN Atelier ${studioVersion}`);
  m.modelJson.weightsManifest[0]!.paths = [WEIGHTS_FILE];
  return m;
}

function readme(g: ExportableGenerator): string {
  const n = g.meta.net;
  const cls = n.numClasses > 0 ? `\n- \`class\` [N, ${n.numClasses}]: one-hot class, in this order: ${g.meta.classNames.map((c, i) => `${i} ${c}`).join(', ')}` : '';
  return `# ${g.label} — a generator exported by GAN Atelier

A TensorFlow.js GraphModel: ${n.resolution}×${n.resolution} ${g.meta.colourMode === 'grayscale' ? 'grayscale' : 'RGB'} images from a ${n.zDim}-value latent z${n.numClasses > 0 ? ` and a class (${n.numClasses} classes)` : ''}.

## Inputs and output
- \`z\` [N, ${n.zDim}]: latent, standard normal. \`atelier-latents.js\` turns a seed into the z the studio uses: same seed, same image.${cls}
- \`psi\` []: truncation ψ; 1 leaves w alone, lower values trade variety for typical images (0.7 is common).
- \`image\` [N, ${n.resolution}, ${n.resolution}, ${n.imageChannels}] out, about [−1, 1]: pixels = round(clip((x + 1) · 127.5, 0, 255)).

The per-layer noise is fixed (each layer's stored constant), so the image depends only on z, class and ψ.

## In a browser
\`\`\`html
<script src="https://…/tf.min.js"></script>   <!-- or your bundler's @tensorflow/tfjs -->
<script src="atelier-latents.js"></script>
<script>
  const model = await tf.loadGraphModel('model.json');   // served over http(s)
  const z = tf.tensor2d(atelierLatents.seedToZ(42, ${n.zDim}), [1, ${n.zDim}]);
  const image = model.execute({ z, psi: tf.scalar(0.7)${n.numClasses > 0 ? `, class: tf.oneHot([0], ${n.numClasses}).toFloat()` : ''} }, 'image');
</script>
\`\`\`

## In Node
In this folder: \`npm install\` once (package.json names @tensorflow/tfjs ${TFJS_VERSION}), then \`node load-node.mjs 0 1 2\`, or import \`loadGenerator\` and \`sample\` from it.

## Description
\`atelier.json\` lists the z size, classes, resolution, colour mode, the w average ψ pulls toward, and the training that made it.
`;
}

export async function writeTfjsExport(out: string, g: ExportableGenerator, o: { overwrite: boolean; studioVersion: string; forceHint?: string }): Promise<ExportResult> {
  const m = tfjsModel(g, o.studioVersion);
  const modelJson = Buffer.from(JSON.stringify(m.modelJson), 'utf8');
  const weights = m.weightData;
  const latents = await asset(LATENTS_FILE);
  const loader = await asset('load-node.mjs');
  const info = atelierJson(g, {
    kind: 'tfjs',
    studioVersion: o.studioVersion,
    files: {
      [MODEL_FILE]: { bytes: modelJson.byteLength, sha256: sha256(modelJson) },
      [WEIGHTS_FILE]: { bytes: weights.byteLength, sha256: sha256(weights) },
    },
  });
  const files: Array<[string, Uint8Array | string]> = [
    [MODEL_FILE, modelJson],
    [WEIGHTS_FILE, weights],
    [ATELIER_JSON, `${JSON.stringify(info, null, 2)}\n`],
    [LATENTS_FILE, latents],
    ['load-node.mjs', loader],
    ['package.json', packageJson(g)],
    ['README.md', readme(g)],
  ];
  return writeAtomically(out, { kind: 'dir', overwrite: o.overwrite, ...(o.forceHint ? { forceHint: o.forceHint } : {}) }, async (tmp) => {
    let bytes = 0;
    for (const [name, data] of files) {
      await writeFile(join(tmp, name), data);
      bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    }
    return { format: 'tfjs', path: out, files: files.map(([n]) => n), bytes };
  });
}
