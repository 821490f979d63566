// The packaging configuration is checked with electron-builder's own schema validator (the
// packaging itself needs the Electron binary, which cannot be downloaded here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../../..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const config = JSON.parse(readFileSync(`${root}build/electron-builder.json`, 'utf8'));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

test('electron-builder accepts the configuration', async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    validateConfiguration: (c: unknown, log: { isEnabled: boolean; add: () => void }) => Promise<void>;
  };
  const { $comment: _, ...rest } = config;
  await validateConfiguration(rest, { isEnabled: false, add: () => undefined });
});

test('installers for every desktop platform, with the files they reference', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win.target, ['nsis']);
  assert.deepEqual(config.mac.target, ['dmg']);
  for (const file of [config.win.icon, config.mac.icon, config.mac.entitlements, 'resources/icon.svg']) {
    assert.ok(existsSync(`${root}${file}`), `${file} is missing`);
  }
  assert.equal(config.npmRebuild, true, 'native modules are rebuilt for Electron');
  assert.ok(config.files.includes('out/**/*'), 'the built main process and renderer are packaged');
  assert.match(pkg.main, /^out\/electron\/main\.js$/);
  assert.ok(config.asarUnpack.includes('**/*.node'), 'native modules load from outside the asar');
});

test('fuses: no NODE_OPTIONS, no --inspect, code only from the integrity-checked asar, encrypted cookies, no file:// privileges', () => {
  const fuses = config.electronFuses as Record<string, boolean>;
  assert.equal(fuses.enableNodeOptionsEnvironmentVariable, false);
  assert.equal(fuses.enableNodeCliInspectArguments, false);
  assert.equal(fuses.onlyLoadAppFromAsar, true);
  assert.equal(fuses.enableEmbeddedAsarIntegrityValidation, true);
  assert.equal(fuses.enableCookieEncryption, true);
  assert.equal(fuses.grantFileProtocolExtraPrivileges, false);
  assert.equal(config.asar, true, 'onlyLoadAppFromAsar needs an asar');
  // The binary never runs as plain Node (ELECTRON_RUN_AS_NODE): the engine workers do not need it (below).
  assert.equal(fuses.runAsNode, false);
});

test('with runAsNode off the workers still start: the Electron main installs the utility-process spawner once ready', async (t) => {
  // Without it, workers would be forked with child_process — the app binary run as Node, which the fuse forbids.
  const { loadElectronMain, readyElectronMain } = await import('../../helpers/electron-main.js');
  const spawn = await import('../../../core/jobs/spawn.js');
  const main = await loadElectronMain();
  t.after(() => {
    spawn.setWorkerSpawner(null);
    main.cleanup();
  });
  assert.equal(spawn.workerSpawner().name, 'child_process.fork', 'nothing installed before the app is ready');
  await readyElectronMain(main.rec);
  assert.equal(spawn.workerSpawner().name, 'utilityProcess');

  // A worker started now goes to utilityProcess.fork, with the entry, its Node flags and its channel.
  const entry = new URL('../../fixtures/workers/counting-worker.ts', import.meta.url);
  const worker = spawn.spawnWorker(entry, { stderr: 'pipe' });
  assert.equal(main.rec.utilityForks.length, 1);
  const [call] = main.rec.utilityForks;
  assert.equal(call!.modulePath, fileURLToPath(entry));
  assert.equal(call!.options.serviceName, 'counting-worker');
  assert.deepEqual(call!.options.stdio, ['ignore', 'inherit', 'pipe']);
  assert.ok(call!.options.execArgv.some((a) => /tsx/.test(a)), 'a TypeScript entry runs through tsx');
  worker.send({ type: 'start', jobId: 1 });
  assert.deepEqual(call!.posted, [{ type: 'start', jobId: 1 }]);
  worker.kill();
  assert.equal(worker.exited, true);
});
