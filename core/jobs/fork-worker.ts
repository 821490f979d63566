/**
 * Starts an engine worker: a child Node process running one worker entry module, talking over
 * Node's IPC channel (structured clone: typed arrays and Buffers cross intact).
 *
 * In development the entry is TypeScript and runs through tsx's loader; a packaged app ships the
 * entry prebuilt as `.js` beside it and forks that directly.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ForkWorkerOptions {
  /** Extra environment for the worker. */
  env?: NodeJS.ProcessEnv;
  /** Arguments after the entry path. */
  args?: string[];
  /** 'pipe' lets the caller read what the worker prints to stderr (to explain a crash); default 'inherit'. */
  stderr?: 'inherit' | 'pipe';
}

/** `entry`: the worker module's URL, e.g. `new URL('./import-worker.ts', import.meta.url)`. */
export function forkWorker(entry: URL, options: ForkWorkerOptions = {}): ChildProcess {
  const tsPath = fileURLToPath(entry);
  const jsPath = tsPath.replace(/\.ts$/, '.js');
  const usePrebuilt = tsPath.endsWith('.ts') && existsSync(jsPath);
  const path = usePrebuilt ? jsPath : tsPath;
  // Inspector flags would make every worker fight for the parent's debug port.
  const inherited = process.execArgv.filter((a) => !a.startsWith('--inspect') && !a.startsWith('--test'));
  const execArgv = path.endsWith('.ts') && !inherited.some((a) => a.includes('tsx')) ? [...inherited, '--import', 'tsx'] : inherited;
  return fork(path, options.args ?? [], {
    execArgv,
    serialization: 'advanced',
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', options.stderr ?? 'inherit', 'ipc'],
  });
}
