/**
 * electron/main.ts, bundled with a recording stand-in for Electron (test/fixtures/electron/
 * fake-electron.ts) and loaded into this process: the Electron binary cannot run here, but what
 * main.ts asks of Electron can be recorded and its handlers called the way Electron would.
 *
 * core/jobs/spawn.ts stays outside the bundle, so main.ts and the test share one module: the
 * spawner main.ts installs is the one the test reads (`workerSpawner()`) and starts workers with.
 * Load it once per test file (main.ts registers app-wide handlers on import).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { Recorded } from '../fixtures/electron/fake-electron.js';
import { setWorkerSpawner } from '../../core/jobs/spawn.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SPAWN = join(ROOT, 'core', 'jobs', 'spawn.ts');

/** Imports of core/jobs/spawn.js go to the module the test imports, by URL, not into the bundle. */
const shareSpawner: Plugin = {
  name: 'share-spawner',
  setup(b) {
    b.onResolve({ filter: /jobs\/spawn\.js$/ }, () => ({ path: pathToFileURL(SPAWN).href, external: true }));
  },
};

export interface LoadedMain {
  /** What main.ts asked of Electron (ready() lets `app.whenReady()` resolve). */
  rec: Recorded;
  /** Where the bundle was written (inside the checkout's ignored out/). */
  outDir: string;
  /** Removes the bundle and puts back child_process.fork as the spawner (main.ts installed Electron's). */
  cleanup(): void;
}

/** Bundles electron/main.ts with the fake Electron and imports it; `app.whenReady()` waits for `rec.ready()`. */
export async function loadElectronMain(): Promise<LoadedMain> {
  // Inside the checkout (out/ is ignored), so the bundle's external packages resolve from node_modules.
  mkdirSync(join(ROOT, 'out'), { recursive: true });
  const outDir = mkdtempSync(join(ROOT, 'out', 'test-electron-'));
  mkdirSync(join(outDir, 'renderer'));
  writeFileSync(join(outDir, 'renderer', 'index.html'), '<!doctype html><title>GAN Atelier</title>');
  process.env.FAKE_ELECTRON_USER_DATA = mkdtempSync(join(outDir, 'user-data-'));
  await build({
    entryPoints: [join(ROOT, 'electron', 'main.ts')],
    outfile: join(outDir, 'electron', 'main.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    alias: { electron: join(ROOT, 'test/fixtures/electron/fake-electron.ts') },
    external: ['better-sqlite3', 'sharp', '@tensorflow/*', 'webgpu', 'onnxruntime-node', 'bufferutil', 'utf-8-validate'],
    plugins: [shareSpawner],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
  await import(pathToFileURL(join(outDir, 'electron', 'main.js')).href);
  const rec = (globalThis as unknown as { __electron: Recorded }).__electron;
  const cleanup = (): void => {
    setWorkerSpawner(null);
    delete process.env.FAKE_ELECTRON_USER_DATA;
    rmSync(outDir, { recursive: true, force: true });
  };
  return { rec, outDir, cleanup };
}

/** Lets main.ts past `app.whenReady()` and waits until it has made its window. */
export async function readyElectronMain(rec: Recorded): Promise<void> {
  rec.ready();
  for (let i = 0; i < 200 && rec.windows.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  if (rec.windows.length === 0) throw new Error('electron/main.ts made no window within 2 s of ready');
}
