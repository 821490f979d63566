/**
 * `npm start` with Electron: how the better-sqlite3 binding for Electron's ABI is chosen, cached
 * and refused, and what happens when it cannot be made (the browser mode, with one message).
 * Here there is no Electron binary (ELECTRON_SKIP_BINARY_DOWNLOAD=1) and no network to Electron's
 * header host: the builds are stood in for by functions that write an addon-like file with the
 * registration symbol a real build exports; the real compiled addons of node_modules are read as
 * they are. The core's side (ATELIER_SQLITE_BINDING → better-sqlite3's nativeBinding) is checked
 * with real project files in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
// @ts-expect-error -- a plain ES module of scripts/ (no types): it runs before any build.
import * as native from '../../../scripts/electron-native.js';

const REPO = new URL('../../../', import.meta.url).pathname;

interface Addon {
  package: string;
  file: string;
  kind: string;
}

test('the native modules: better-sqlite3 is built for Node’s ABI; sharp, onnxruntime-node and webgpu are N-API', () => {
  const report = native.nativeModuleReport(REPO) as Addon[];
  const byPackage = (p: string): string[] => [...new Set(report.filter((a) => a.package === p).map((a) => a.kind))];
  assert.deepEqual(byPackage('better-sqlite3'), [`abi-${process.versions.modules}`], 'not N-API: Electron needs its own build');
  assert.deepEqual(byPackage('@img'), ['napi'], 'sharp');
  assert.deepEqual(byPackage('onnxruntime-node'), ['napi']);
  assert.deepEqual(byPackage('webgpu'), ['napi']);
  assert.equal(native.planStart({ electronPath: '/x/electron', sqlite: { ok: true, path: '/c/b.node' }, natives: report }).mode, 'electron', 'only better-sqlite3 needs the Electron build');
});

test('an Electron binding is built once, cached, checked for the ABI; a failed build sends npm start to the browser mode', (t) => {
  const cacheRoot = tempDir(t);
  const electron = { version: '45.4.1', abi: 150 };
  let builds = 0;
  const fakeBuild = (symbol: string) => (dir: string): void => {
    builds++;
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    writeFileSync(join(dir, 'build', 'Release', 'better_sqlite3.node'), `\x7fELF…${symbol}…`);
  };

  const first = native.ensureElectronSqlite({ root: REPO, electron, cacheRoot, build: fakeBuild('node_register_module_v150') });
  assert.equal(first.ok, true, first.reason);
  assert.equal(first.built, true);
  assert.match(first.path, /better-sqlite3-[\d.]+-electron-45\.4\.1-abi150-\w+-\w+\/better_sqlite3\.node$/);
  const again = native.ensureElectronSqlite({ root: REPO, electron, cacheRoot, build: fakeBuild('node_register_module_v150') });
  assert.deepEqual(again, { ok: true, path: first.path, built: false });
  assert.equal(builds, 1, 'the cached build is used');
  const plan = native.planStart({ electronPath: '/x/electron', sqlite: again, natives: [] });
  assert.deepEqual(plan, { mode: 'electron', env: { ATELIER_SQLITE_BINDING: first.path } });

  // Another Electron (another ABI): built anew; a build for the wrong ABI is refused.
  const wrong = native.ensureElectronSqlite({ root: REPO, electron: { version: '46.0.0', abi: 151 }, cacheRoot, build: fakeBuild('node_register_module_v115') });
  assert.deepEqual(wrong, { ok: false, reason: 'the better-sqlite3 built for Electron 46.0.0 is abi-115, not abi-151.' });

  // Offline: the build fails; npm start says why and opens the browser mode.
  const offline = native.ensureElectronSqlite({
    root: REPO,
    electron: { version: '46.0.0', abi: 151 },
    cacheRoot,
    build: () => {
      throw new Error('prebuild-install: getaddrinfo ENOTFOUND github.com; node-gyp: getaddrinfo ENOTFOUND electronjs.org');
    },
  });
  assert.equal(offline.ok, false);
  assert.match(offline.reason, /^better-sqlite3 [\d.]+ could not be built for Electron 46\.0\.0 \(ABI 151\): prebuild-install: getaddrinfo ENOTFOUND/);
  const fallback = native.planStart({ electronPath: '/x/electron', sqlite: offline, natives: [] });
  assert.equal(fallback.mode, 'browser');
  assert.match(fallback.message, /^The desktop window cannot open its project files: better-sqlite3 .* Run `npm start` again with network access to build it once \(it is cached\)\.$/);

  // No Electron binary (this machine): the browser mode, saying so.
  assert.deepEqual(native.planStart({ electronPath: null, electronMissingReason: 'its binary is not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD is set)' }), {
    mode: 'browser',
    message: 'The desktop window needs Electron, but its binary is not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD is set).',
  });
  // A non-N-API addon other than better-sqlite3 would not load either: said, not crashed into.
  assert.match(native.planStart({ electronPath: '/x/electron', sqlite: again, natives: [{ package: 'sharp', file: '/m/sharp.node', kind: 'abi-115' }] }).message, /cannot load \/m\/sharp\.node \(abi-115, not N-API\)/);
});

test('Electron’s ABI comes from its package (abi_version)', () => {
  const info = native.electronInfo(native.electronPackageDir(REPO)) as { version: string; abi: number };
  assert.match(info.version, /^45\./);
  assert.equal(info.abi, 150);
});

test('the core opens project files through ATELIER_SQLITE_BINDING when set (better-sqlite3’s nativeBinding)', (t) => {
  const dir = tempDir(t);
  const script = (file: string): string => `
    const { Project } = await import(${JSON.stringify(join(REPO, 'core/store/project.ts'))});
    const p = Project.create(${JSON.stringify(join(dir, file))}, 'a', { appVersion: 'test' });
    p.close();
    console.log('opened');`;
  let n = 0;
  const run = (binding: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(`p${++n}.atelier`)], { cwd: REPO, encoding: 'utf8', env: { ...process.env, ATELIER_SQLITE_BINDING: binding } });
  const good = run(join(REPO, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'));
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /opened/);
  const bogus = run(join(dir, 'no-such-binding.node'));
  assert.notEqual(bogus.status, 0, 'a named binding is used, not silently replaced by the default');
  assert.match(bogus.stderr, /no-such-binding\.node/);
});
