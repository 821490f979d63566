// The packaging configuration is checked with electron-builder's own schema validator (the
// packaging itself needs the Electron binary, which cannot be downloaded here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('../../../', import.meta.url).pathname;
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
  // runAsNode: child_process.fork in Electron runs the app binary as Node (ELECTRON_RUN_AS_NODE).
  // It may be turned off only once the engine workers no longer start that way (utilityProcess).
  const forksWithNode = /from 'node:child_process'/.test(readFileSync(`${root}core/jobs/fork-worker.ts`, 'utf8'));
  assert.equal(fuses.runAsNode, forksWithNode, forksWithNode ? 'workers are forked: runAsNode must stay on' : 'workers no longer fork: turn runAsNode off');
});
