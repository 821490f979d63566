#!/usr/bin/env node
// Bundles Electron's main process (ESM) and preload (CommonJS: sandboxed preloads cannot be ESM)
// into out/electron/, plus every engine worker entry (core/**/*-worker.ts) and worker-thread entry
// (core/**/*-thread.ts) beside main.js, where resolveEntry() (core/jobs/fork-worker.ts) and the decode pool look for a prebuilt .js. Native modules stay external (rebuilt for Electron by
// electron-builder).
import { build } from 'esbuild';
import { cpSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outdir = join(root, 'out', 'electron');
const external = ['electron', 'better-sqlite3', 'sharp', '@tensorflow/*', 'webgpu', 'onnxruntime-node', 'bufferutil', 'utf-8-validate'];

function workerEntries(dir) {
  let found = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) found = found.concat(workerEntries(p));
    else if ((e.name.endsWith('-worker.ts') && e.name !== 'fork-worker.ts') || e.name.endsWith('-thread.ts')) found.push(p);
  }
  return found;
}

const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, external, logLevel: 'warning' };
// ESM bundles that pull CommonJS dependencies need a require().
const banner = { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" };

await build({ ...common, entryPoints: [join(root, 'electron', 'main.ts')], outfile: join(outdir, 'main.js'), format: 'esm', banner });
await build({ ...common, entryPoints: [join(root, 'electron', 'preload.ts')], outfile: join(outdir, 'preload.cjs'), format: 'cjs' });
const workers = workerEntries(join(root, 'core'));
for (const entry of workers) {
  const name = entry.split('/').pop().replace(/\.ts$/, '.js');
  await build({ ...common, entryPoints: [entry], outfile: join(outdir, name), format: 'esm', banner });
}
// Files exports ship (the HTML sampler's scripts, the Node loader): read from ./assets/ beside the bundle.
cpSync(join(root, 'core', 'export', 'assets'), join(outdir, 'assets'), { recursive: true });
console.log(`Built out/electron/main.js, preload.cjs${workers.length ? `, ${workers.map((w) => relative(root, w)).join(', ')}` : ''}.`);
