/**
 * Starting an engine worker with child_process.fork: a child Node process running one worker
 * entry module, talking over Node's IPC channel (structured clone: typed arrays and Buffers cross
 * intact). This is the default spawner (core/jobs/spawn.ts); the helpers that find the entry and
 * its Node flags serve every spawner.
 *
 * In development the entry is TypeScript and runs through tsx's loader; a packaged app ships the
 * entry prebuilt as `.js` beside it and forks that directly.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ForkWorkerOptions {
  /** Extra environment for the worker. */
  env?: NodeJS.ProcessEnv;
  /** Arguments after the entry path. */
  args?: string[];
  /** 'pipe' lets the caller read what the worker prints to stderr (to explain a crash); default 'inherit'. */
  stderr?: 'inherit' | 'pipe';
}

/** tsx's loader by absolute URL, resolved only for a TypeScript entry (a prebuilt app may ship without tsx). */
let tsxLoader: string | undefined;
function tsxLoaderUrl(): string {
  tsxLoader ??= import.meta.resolve('tsx');
  return tsxLoader;
}

/** `entry`: the worker module's URL, e.g. `new URL('./import-worker.ts', import.meta.url)`. */
export function forkWorker(entry: URL, options: ForkWorkerOptions = {}): ChildProcess {
  const path = resolveEntry(fileURLToPath(entry));
  return forkEntry(path, entryExecArgv(path), options);
}

/** Forks the resolved entry `path` with Node flags `execArgv`. */
export function forkEntry(path: string, execArgv: string[], options: ForkWorkerOptions = {}): ChildProcess {
  return fork(path, options.args ?? [], {
    execArgv,
    serialization: 'advanced',
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', options.stderr ?? 'inherit', 'ipc'],
  });
}

/** The Node flags to run entry `path` with: the parent's loaders and limits, and tsx for a TypeScript entry. */
export function entryExecArgv(path: string): string[] {
  const inherited = workerExecArgv(process.execArgv);
  // tsx by absolute URL: a bare 'tsx' would resolve from the working directory, not from the studio.
  const withTsx = inherited.map((a) => (a === 'tsx' ? tsxLoaderUrl() : a));
  return path.endsWith('.ts') && !withTsx.includes(tsxLoaderUrl()) ? [...withTsx, '--import', tsxLoaderUrl()] : withTsx;
}

/**
 * The file to run for a worker entry: its prebuilt `.js` beside the `.ts`; else, in a bundled app
 * (this module bundled into main.js, the workers bundled beside it), `<name>.js` beside this
 * module; else the TypeScript source, through tsx.
 */
export function resolveEntry(tsPath: string, bundleDir: string = dirname(fileURLToPath(import.meta.url))): string {
  if (!tsPath.endsWith('.ts')) return tsPath;
  const besideSource = tsPath.replace(/\.ts$/, '.js');
  if (existsSync(besideSource)) return besideSource;
  const besideBundle = join(bundleDir, basename(besideSource));
  if (!existsSync(tsPath) && existsSync(besideBundle)) return besideBundle;
  return tsPath;
}

/** Flags that take the next argument as their value when not written as `--flag=value`. */
const WITH_VALUE = new Set(['-e', '--eval', '-p', '--print', '-r', '--require', '--import', '--loader', '--experimental-loader', '--test-name-pattern', '--test-reporter', '--test-reporter-destination', '--test-concurrency', '--input-type', '--conditions', '-C']);

/**
 * The parent's Node flags a worker should inherit: loaders and memory limits yes; never the
 * parent's own program (`-e`/`-p` would make every worker run the parent's script instead of its
 * entry — and fork again), nor the test runner's or inspector's flags.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const name = arg.split('=')[0]!;
    const takesNext = WITH_VALUE.has(arg) && i + 1 < execArgv.length;
    const drop = ['-e', '--eval', '-p', '--print', '--input-type'].includes(name) || name.startsWith('--test') || name.startsWith('--inspect') || name === '--watch';
    if (drop) {
      if (takesNext) i++;
      continue;
    }
    out.push(arg);
    if (takesNext) out.push(execArgv[++i]!);
  }
  return out;
}
