#!/usr/bin/env node
// `npm start`: builds and opens the desktop studio. Where the Electron binary is not installed
// (it is downloaded on first use, which fails offline or with ELECTRON_SKIP_BINARY_DOWNLOAD=1),
// says so and opens the same studio in the browser instead (`atelier serve --open`).
// With Electron, better-sqlite3 (not N-API) loads through a binding built for Electron's ABI,
// made once and cached (scripts/electron-native.js); when it cannot be made, the browser mode.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildWithTools, electronInfo, electronPackageDir, ensureElectronSqlite, nativeModuleReport, planStart } from './electron-native.js';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** The Electron executable, or null with the reason it is missing. */
function findElectron() {
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { path: null, reason: 'the electron package is not installed (run npm install)' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  if (existsSync(pathFile)) {
    const exe = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8'));
    if (existsSync(exe)) return { path: exe, reason: null };
  }
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    return { path: null, reason: 'its binary is not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD is set)' };
  }
  // require('electron') downloads the binary on first use; offline this fails quickly.
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (probe.status === 0 && probe.stdout && existsSync(probe.stdout)) return { path: probe.stdout, reason: null };
  return { path: null, reason: 'its binary could not be downloaded (no network access to the Electron release host?)' };
}

const electron = findElectron();
run('npm', ['run', '--silent', 'build:renderer']);
let plan;
if (electron.path) {
  const info = electronInfo(electronPackageDir(root));
  const cacheRoot = join(root, 'node_modules', '.cache', 'gan-atelier');
  const cached = ensureElectronSqlite({ root, electron: info, cacheRoot, build: (dir) => {
    console.log(`Building better-sqlite3 for Electron ${info.version} (ABI ${info.abi}), once…`);
    buildWithTools(root, info.version)(dir);
  } });
  plan = planStart({ electronPath: electron.path, sqlite: cached, natives: nativeModuleReport(root) });
} else {
  plan = planStart({ electronPath: null, electronMissingReason: electron.reason });
}
if (plan.mode === 'electron') {
  run('npm', ['run', '--silent', 'build:electron']);
  const child = spawn(electron.path, [root, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, ...plan.env } });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(`\n${plan.message}`);
  console.log('Opening the studio in your browser instead (browser mode, 127.0.0.1 only).\n');
  const child = spawn(process.execPath, [join(root, 'bin', 'atelier.js'), 'serve', '--open', ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}
