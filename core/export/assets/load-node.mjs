// Loads this folder's generator with plain @tensorflow/tfjs in Node (no tfjs-node needed) and
// makes images from seeds exactly as GAN Atelier does.
//
//   npm install                       # once: @tensorflow/tfjs, as package.json says
//   node load-node.mjs 0 1 2          # prints each image's size and mean pixel
//
// In your own code:
//   import { loadGenerator, sample } from './load-node.mjs';
//   const g = await loadGenerator();
//   const images = await sample(g, [0, 1, 2], { psi: 0.7 });   // [{ seed, pixels: Uint8Array [R, R, C] }]
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// Plain @tensorflow/tfjs, installed beside this file by `npm install` (package.json names the version).
const tf = await import('@tensorflow/tfjs').catch((err) => {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  const dir = fileURLToPath(new URL('.', import.meta.url));
  console.error(`load-node.mjs needs @tensorflow/tfjs, which is not installed here. Run \`npm install\` in ${dir} once (it reads package.json), then run this again.`);
  process.exit(1);
});

const here = new URL('.', import.meta.url);

/** A tf.io.IOHandler reading model.json and its weight files from disk. */
export function fileHandler(dir = here) {
  return {
    async load() {
      const modelJson = JSON.parse(await readFile(fileURLToPath(new URL('model.json', dir)), 'utf8'));
      const specs = [];
      const parts = [];
      for (const group of modelJson.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) parts.push(await readFile(fileURLToPath(new URL(p, dir))));
      }
      const all = Buffer.concat(parts);
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        signature: modelJson.signature,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

/** The GraphModel and its description (atelier.json). */
export async function loadGenerator(dir = here) {
  const info = JSON.parse(await readFile(fileURLToPath(new URL('atelier.json', dir)), 'utf8'));
  const model = await tf.loadGraphModel(fileHandler(dir));
  const latents = await import(new URL('atelier-latents.js', dir).href);
  const seedToZ = (latents.default ?? globalThis.atelierLatents).seedToZ;
  return { model, info, seedToZ };
}

/** Images for seeds: z from the seed, ψ (default 0.7, as the studio's Gallery), class index (conditional models; default 0, the first class). */
export async function sample(g, seeds, { psi = 0.7, classIndex = 0 } = {}) {
  const { model, info, seedToZ } = g;
  const n = seeds.length;
  const z = new Float32Array(n * info.zSize);
  seeds.forEach((s, i) => z.set(seedToZ(s, info.zSize), i * info.zSize));
  const feeds = { z: tf.tensor2d(z, [n, info.zSize]), psi: tf.scalar(psi) };
  if (info.classes.length > 0) feeds.class = tf.oneHot(tf.fill([n], classIndex, 'int32'), info.classes.length).toFloat();
  const image = model.execute(feeds, 'image');
  const pixels = tf.tidy(() => image.clipByValue(-1, 1).add(1).mul(127.5).round());
  const data = await pixels.data();
  tf.dispose([image, pixels, ...Object.values(feeds)]);
  const per = info.resolution * info.resolution * (info.colourMode === 'grayscale' ? 1 : 3);
  return seeds.map((seed, i) => ({ seed, pixels: Uint8Array.from(data.subarray(i * per, (i + 1) * per)) }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const seeds = process.argv.slice(2).map(Number);
  const g = await loadGenerator();
  for (const img of await sample(g, seeds.length > 0 ? seeds : [0])) {
    const mean = img.pixels.reduce((a, b) => a + b, 0) / img.pixels.length;
    console.log(`seed ${img.seed}: ${g.info.resolution}×${g.info.resolution} ${g.info.colourMode}, mean pixel ${mean.toFixed(1)}`);
  }
}
