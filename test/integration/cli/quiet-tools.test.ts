/**
 * Quiet tools: a CLI command on a machine without a GPU prints no Dawn/Mesa lines (the adapter
 * is looked for in a quiet child first); npm in the project prints no "Unknown project config"
 * warning; the renderer build prints no PLUGIN_TIMINGS block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DAWN_LOOK_ENV, quietDawnLook } from '../../../core/backend/webgpu.js';
import { projectWithCheckpoint, tempDir } from '../../helpers/gallery.js';

const REPO = new URL('../../../', import.meta.url).pathname;
const GPU_NOISE = /Vulkan|artificially reduced|XDG_RUNTIME_DIR|BackendVk|Dawn|dawn\/native/;

/** The environment a user's shell has: no backend named, no probe answer inherited from this test process. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.ATELIER_BACKEND;
  delete env[DAWN_LOOK_ENV];
  delete env.ATELIER_TEST;
  return env;
}

test('a CLI command that samples prints no GPU-probe warnings on a machine without a (hardware) GPU', async (t) => {
  const look = quietDawnLook({});
  t.diagnostic(`Dawn, looked at quietly: ${JSON.stringify(look)}`);
  if (look.kind === 'hardware') return t.skip('this machine has a GPU adapter: Dawn is used, and may speak');
  const dir = tempDir(t, 'atelier-quiet-');
  const fx = await projectWithCheckpoint(t, dir, { name: 'quiet' });
  fx.project.close();
  const r = spawnSync(process.execPath, [join(REPO, 'bin/atelier.js'), 'sample', fx.path, '--run', String(fx.runId), '--seeds', '0-1', '--out', join(dir, 'out')], { encoding: 'utf8', env: userEnv() });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Wrote 2 images/);
  assert.doesNotMatch(r.stderr, GPU_NOISE, `stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stdout, GPU_NOISE);
});

test('npm in the project: no unknown-config warning; the renderer build: no timing dump', (t) => {
  const npm = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(npm.status, 0, npm.stderr);
  assert.doesNotMatch(npm.stderr, /npm warn/i, npm.stderr);
  const out = tempDir(t, 'atelier-vite-');
  const vite = spawnSync(process.execPath, [join(REPO, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'build/vite.renderer.config.ts', '--outDir', out, '--emptyOutDir'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(vite.status, 0, vite.stderr);
  assert.doesNotMatch(vite.stdout + vite.stderr, /PLUGIN_TIMINGS|BUNDLER_TIMINGS|callbacks ran for/);
});
