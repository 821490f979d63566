// Native modules under `npm start`'s Electron (scripts/start.js): better-sqlite3 is not an N-API
// module, so the binding npm built for Node (NODE_MODULE_VERSION 115 on Node 20) does not load in
// Electron's main process (Electron 45: 150). Instead of rebuilding it in place (the CLI and the
// tests need the Node one), an Electron build is made once in a cache beside node_modules and
// named to the core through ATELIER_SQLITE_BINDING (better-sqlite3's `nativeBinding` option,
// core/store/sqlite.js). The other native modules (sharp, onnxruntime-node, webgpu) are N-API:
// one binary serves both runtimes; this file checks that too.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const SQLITE_BINDING_ENV = 'ATELIER_SQLITE_BINDING';

/** Electron's version and NODE_MODULE_VERSION, from its npm package (`abi_version` ships with it). */
export function electronInfo(electronPkgDir) {
  const version = JSON.parse(readFileSync(join(electronPkgDir, 'package.json'), 'utf8')).version;
  const abiFile = join(electronPkgDir, 'abi_version');
  const abi = existsSync(abiFile) ? Number(readFileSync(abiFile, 'utf8').trim()) : null;
  return { version, abi };
}

/**
 * What a compiled addon registers: 'napi' (N-API: loads in any runtime), `abi-N` (built for one
 * NODE_MODULE_VERSION), or 'unknown'. Read from the exported registration symbol's name.
 */
export function addonKind(file) {
  const bytes = readFileSync(file);
  if (bytes.includes('napi_register_module_v1')) return 'napi';
  const m = /node_register_module_v(\d+)/.exec(bytes.toString('latin1'));
  return m ? `abi-${m[1]}` : 'unknown';
}

/** Every compiled addon of the native packages the studio loads, with its kind. */
export function nativeModuleReport(root, packages = ['better-sqlite3', 'sharp', '@img', 'onnxruntime-node', 'webgpu']) {
  const out = [];
  const walk = (dir, pkg) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (name !== 'obj.target' && name !== 'test' && name !== 'deps' && name !== 'src') walk(p, pkg);
      } else if (name.endsWith('.node') && !name.startsWith('test_')) out.push({ package: pkg, file: p, kind: addonKind(p) });
    }
  };
  for (const pkg of packages) {
    const dir = join(root, 'node_modules', pkg);
    if (existsSync(dir)) walk(dir, pkg);
  }
  return out;
}

/** Where the Electron build of better-sqlite3 is kept: one per Electron version, ABI, platform and better-sqlite3 version. */
export function cachedBindingPath(cacheRoot, { electronVersion, abi, sqliteVersion, platform = process.platform, arch = process.arch }) {
  return join(cacheRoot, `better-sqlite3-${sqliteVersion}-electron-${electronVersion}-abi${abi}-${platform}-${arch}`, 'better_sqlite3.node');
}

/**
 * The default builder: in a copy of better-sqlite3 (its own build for Node stays as it is), first
 * the project's prebuilt binary for this Electron (prebuild-install), else a compile against
 * Electron's headers (node-gyp). Both need the network once; the result is cached.
 */
export function buildWithTools(root, electronVersion) {
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  return (dir) => {
    const attempts = [
      [bin('prebuild-install'), ['--runtime', 'electron', '--target', electronVersion, '--verbose']],
      [bin('node-gyp'), ['rebuild', '--release', '--runtime=electron', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers']],
    ];
    const errors = [];
    for (const [cmd, args] of attempts) {
      if (!existsSync(cmd)) {
        errors.push(`${cmd.split('/').pop()} is not installed`);
        continue;
      }
      const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', timeout: 600_000, env: { ...process.env, npm_config_runtime: 'electron', npm_config_target: electronVersion } });
      if (r.status === 0 && existsSync(join(dir, 'build', 'Release', 'better_sqlite3.node'))) return;
      const last = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? r.error?.message ?? `exit ${r.status}`;
      errors.push(`${cmd.split('/').pop()}: ${last}`);
    }
    throw new Error(errors.join('; '));
  };
}

/**
 * A better-sqlite3 binding for Electron's ABI: the cached one, else built now with `build(dir)`
 * (which must leave build/Release/better_sqlite3.node in `dir`, a copy of the package).
 * Returns { ok: true, path, built } or { ok: false, reason } (reason: one line a user can act on).
 */
export function ensureElectronSqlite({ root, electron, cacheRoot, build }) {
  const sqliteDir = join(root, 'node_modules', 'better-sqlite3');
  const sqliteVersion = JSON.parse(readFileSync(join(sqliteDir, 'package.json'), 'utf8')).version;
  if (electron.abi === null || !Number.isInteger(electron.abi)) {
    return { ok: false, reason: `Electron ${electron.version}'s ABI is unknown (no abi_version in its package).` };
  }
  const target = cachedBindingPath(cacheRoot, { electronVersion: electron.version, abi: electron.abi, sqliteVersion });
  const want = `abi-${electron.abi}`;
  if (existsSync(target) && addonKind(target) === want) return { ok: true, path: target, built: false };
  mkdirSync(cacheRoot, { recursive: true });
  const work = mkdtempSync(join(cacheRoot, 'build-'));
  try {
    cpSync(sqliteDir, work, { recursive: true, filter: (src) => !src.startsWith(join(sqliteDir, 'build')) });
    try {
      build(work);
    } catch (e) {
      return { ok: false, reason: `better-sqlite3 ${sqliteVersion} could not be built for Electron ${electron.version} (ABI ${electron.abi}): ${String(e?.message ?? e).split('\n')[0]}` };
    }
    const made = join(work, 'build', 'Release', 'better_sqlite3.node');
    if (!existsSync(made)) return { ok: false, reason: `building better-sqlite3 for Electron ${electron.version} left no build/Release/better_sqlite3.node.` };
    const kind = addonKind(made);
    if (kind !== want) return { ok: false, reason: `the better-sqlite3 built for Electron ${electron.version} is ${kind}, not ${want}.` };
    mkdirSync(dirname(target), { recursive: true });
    renameSync(made, target);
    return { ok: true, path: target, built: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * What `npm start` does: the desktop window (with the Electron binding in the environment) when
 * Electron's binary is there and every native module can load in it; else the browser mode, with
 * one message saying why.
 */
export function planStart({ electronPath, electronMissingReason, sqlite, natives = [] }) {
  if (!electronPath) return { mode: 'browser', message: `The desktop window needs Electron, but ${electronMissingReason}.` };
  if (!sqlite.ok) {
    return { mode: 'browser', message: `The desktop window cannot open its project files: ${sqlite.reason} Run \`npm start\` again with network access to build it once (it is cached).` };
  }
  const stuck = natives.filter((n) => n.package !== 'better-sqlite3' && n.kind !== 'napi' && n.kind !== 'unknown');
  if (stuck.length > 0) {
    return { mode: 'browser', message: `The desktop window cannot load ${stuck.map((n) => `${n.file} (${n.kind}, not N-API)`).join(', ')}; rebuild it for Electron (npx electron-rebuild).` };
  }
  return { mode: 'electron', env: { [SQLITE_BINDING_ENV]: sqlite.path } };
}

/** The electron package's folder, or null. */
export function electronPackageDir(root) {
  try {
    return dirname(createRequire(join(root, 'package.json')).resolve('electron/package.json'));
  } catch {
    return null;
  }
}
