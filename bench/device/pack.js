#!/usr/bin/env node
// Packs what the GPU checks need into .gpu/ (git-ignored through .git/info/exclude), for a machine
// that has no Node and no npm registry: the Node binary (xz), esbuild bundles of the CLI, its
// workers, bench/step and the webgpu numeric test, and the native packages they load at run time
// (better-sqlite3, sharp, webgpu: Linux x64 only). bench/device/run.sh runs them there.
//
//   node bench/device/pack.js   → .gpu/app (to try here) and .gpu/payload (what is carried: about 40 MB)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const out = join(root, '.gpu');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'app'), { recursive: true });

// Bundles. Workers sit beside the CLI, where resolveEntry() (core/jobs/fork-worker.ts) looks for a prebuilt .js.
const external = ['better-sqlite3', 'sharp', 'webgpu', 'bufferutil', 'utf-8-validate', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'onnxruntime-node'];
const common = { bundle: true, platform: 'node', target: 'node20', format: 'esm', external, logLevel: 'warning', sourcemap: false };
// CommonJS code inside an ESM bundle (tfjs-backend-wasm's loader) needs require and __dirname.
const banner = {
  js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);",
};
await build({
  ...common,
  banner,
  stdin: {
    contents: "import { main } from './core/cli/main.ts'; process.exitCode = await main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) });",
    resolveDir: root,
    sourcefile: 'atelier-cli.ts',
    loader: 'ts',
  },
  outfile: join(out, 'app', 'cli.js'),
});
const entries = {
  'train-worker.js': 'core/session/train-worker.ts',
  'probe-worker.js': 'core/backend/probe-worker.ts',
  'step.js': 'bench/step.ts',
  'webgpu.test.js': 'test/integration/nets/training.test.ts',
  'webgpu-kernels.test.js': 'test/unit/backend/webgpu-conv-kernels.test.ts',
  'webgpu-augment.test.js': 'test/unit/augment/webgpu.test.ts',
  'webgpu-fused.test.js': 'test/unit/backend/fused-epilogue.test.ts',
  'webgpu-fir-down.test.js': 'test/unit/backend/fir-down.test.ts',
  'webgpu-lead-sum.test.js': 'test/unit/backend/webgpu-lead-sum.test.ts',
  'webgpu-adam.test.js': 'test/unit/backend/webgpu-adam.test.ts',
  'webgpu-reduce-grads.test.js': 'test/unit/backend/reduce-grads.test.ts',
  'sample-worker.js': 'core/gallery/sample-worker.ts',
  'gallery.js': 'bench/gallery.ts',
  'metrics.js': 'bench/metrics.ts',
  'eval-worker.js': 'core/evaluation/eval-worker.ts',
};
for (const [name, entry] of Object.entries(entries)) {
  await build({ ...common, banner, entryPoints: [join(root, entry)], outfile: join(out, 'app', name) });
}

// Native packages, resolved from .gpu/app/node_modules.
const nm = join(out, 'app', 'node_modules');
const copy = (pkg, filter = () => true) => cpSync(join(root, 'node_modules', pkg), join(nm, pkg), { recursive: true, dereference: true, filter });
for (const pkg of ['better-sqlite3', 'bindings', 'file-uri-to-path', 'sharp', '@img/colour', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64', 'detect-libc', 'semver']) {
  // better-sqlite3: its JS and the built addon only (not the sources and objects it was built from).
  copy(pkg, (src) => !/better-sqlite3\/(deps|src|build\/(?!Release(\/better_sqlite3\.node)?$))/.test(src));
}
copy('webgpu', (src) => !/webgpu\/dist\/(?!linux-x64)[^/]+/.test(src));
// nsfwjs: only what finds and holds the bundled InceptionV3 (the metrics' features).
copy('nsfwjs', (src) => /nsfwjs(\/package\.json|\/dist|\/dist\/cjs(\/index\.js)?|\/dist\/models|\/dist\/models\/inception_v3(\/.*)?)?$/.test(src));
// tfjs-backend-wasm's .wasm files (the bundle looks for them beside itself).
const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) cpSync(join(wasmDir, f), join(out, 'app', f));

// What travels: the app folder as one tar.xz, and the Node binary (the device machine has none).
mkdirSync(join(out, 'payload'));
execFileSync('tar', ['-C', out, '-cJf', join(out, 'payload', 'app.tar.xz'), 'app'], { env: { ...process.env, XZ_OPT: '-T2 -6' } });
execFileSync('sh', ['-c', `xz -T2 -6 -c "${process.execPath}" > "${join(out, 'payload', 'node.xz')}"`]);

// The reference PyTorch script and the runner travel in the working tree already.
function size(p) {
  const s = statSync(p);
  return s.isDirectory() ? readdirSync(p).reduce((a, f) => a + size(join(p, f)), 0) : s.size;
}
console.log(JSON.stringify({ app: join(out, 'app'), appMb: Math.round(size(join(out, 'app')) / 2 ** 20), payloadMb: Math.round(size(join(out, 'payload')) / 2 ** 20) }));
