/**
 * The spawner seam: every engine worker (jobs, the sampling worker, the backend probe) starts
 * through `spawnWorker`, which resolves the entry (resolveEntry) and hands it to the installed
 * WorkerSpawner. The default forks with child_process (fork-worker.ts) — the CLI, the browser
 * mode and the tests. A packaged Electron app may lose child_process.fork of its own binary
 * (the RunAsNode fuse off), so electron/main.ts installs `utilitySpawner` over Electron's
 * `utilityProcess.fork`. Callers see only WorkerProcess; workers see only their ParentChannel
 * (channel.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLOSE_MESSAGE } from './channel.js';
import { entryExecArgv, forkEntry, resolveEntry } from './fork-worker.js';

/** A running worker as the service sees it, whichever way it was started. */
export interface WorkerProcess {
  readonly pid: number | undefined;
  /** True while messages can reach the worker. */
  readonly connected: boolean;
  /** True once the process has ended. */
  readonly exited: boolean;
  /** What the worker prints to stderr, when spawned with `stderr: 'pipe'`. */
  readonly stderr: NodeJS.ReadableStream | null;
  /** Sends while connected (structured clone); a message to a worker that is gone is dropped. */
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** The process ended: its exit code, or the signal that ended it (when the transport knows it). */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** It could not be started, or not be spoken to. */
  onError(listener: (err: Error) => void): void;
  /** Closes the channel: the worker takes it as the service going away (it saves and leaves). */
  disconnect(): void;
  /** Ends the process; SIGKILL ends it at once. */
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Extra environment for the worker. */
  env?: NodeJS.ProcessEnv;
  /** Arguments after the entry path. */
  args?: string[];
  /** 'pipe' lets the caller read what the worker prints to stderr (to explain a crash); default 'inherit'. */
  stderr?: 'inherit' | 'pipe';
}

export interface WorkerSpawner {
  /** How it starts workers, for messages and tests. */
  readonly name: string;
  /** Starts the resolved entry `path` with Node flags `execArgv`. */
  spawn(path: string, execArgv: string[], options: SpawnOptions): WorkerProcess;
}

/** child_process.fork, as the CLI, the browser mode and the tests run workers. */
export const forkSpawner: WorkerSpawner = {
  name: 'child_process.fork',
  spawn: (path, execArgv, options) => fromChildProcess(forkEntry(path, execArgv, options)),
};

let current: WorkerSpawner = forkSpawner;

/** Installs the spawner every later worker starts with (null: child_process.fork again). */
export function setWorkerSpawner(spawner: WorkerSpawner | null): void {
  current = spawner ?? forkSpawner;
}

/** The spawner workers start with now. */
export function workerSpawner(): WorkerSpawner {
  return current;
}

/** Starts the worker entry `entry` (its module URL, e.g. `new URL('./import-worker.ts', import.meta.url)`). */
export function spawnWorker(entry: URL, options: SpawnOptions = {}): WorkerProcess {
  const path = resolveEntry(fileURLToPath(entry));
  return current.spawn(path, entryExecArgv(path), options);
}

/** A forked child as a WorkerProcess. */
export function fromChildProcess(child: ChildProcess): WorkerProcess {
  return {
    get pid() {
      return child.pid;
    },
    get connected() {
      return child.connected;
    },
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    stderr: child.stderr,
    // With a callback, a failed send (the worker just left) is reported there, not thrown or emitted.
    send: (message) => void (child.connected && child.send(message as object, undefined, {}, () => undefined)),
    onMessage: (listener) => void child.on('message', listener),
    onExit: (listener) => void child.on('exit', listener),
    onError: (listener) => void child.on('error', listener),
    disconnect: () => void (child.connected && child.disconnect()),
    kill: (signal) => void child.kill(signal),
  };
}

/**
 * Echoes a worker's stderr (spawned with `stderr: 'pipe'`) to ours and keeps its last `keep`
 * characters: what it printed before dying explains the death (see `describeDeath`).
 */
export function stderrTail(worker: { stderr: NodeJS.ReadableStream | null }, keep = 4000): () => string {
  let tail = '';
  worker.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString()).slice(-keep);
  });
  return () => tail;
}

// ---------------------------------------------------------------------------------------------
// Electron's utility process, described structurally (core/ does not import Electron).

/** What `utilityProcess.fork` returns, as far as a worker needs it. */
export interface UtilityProcessLike {
  readonly pid: number | undefined;
  readonly stderr: NodeJS.ReadableStream | null;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** `utilityProcess.fork` with the options a worker needs. */
export type UtilityFork = (
  modulePath: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; execArgv: string[]; stdio: Array<'pipe' | 'ignore' | 'inherit'>; serviceName: string },
) => UtilityProcessLike;

/**
 * A spawner over Electron's utility processes. The worker finds `process.parentPort` (channel.ts);
 * stdout is shared with ours, as with fork; stderr is piped when asked (death descriptions read it). A utility process
 * has no disconnect: `disconnect()` sends CLOSE_MESSAGE, which the worker's channel takes as the
 * service going away. Its exit reports a code only, never a signal.
 */
export function utilitySpawner(fork: UtilityFork): WorkerSpawner {
  return {
    name: 'utilityProcess',
    spawn(path, execArgv, options) {
      const child = fork(path, options.args ?? [], {
        env: { ...process.env, ...options.env },
        execArgv,
        stdio: ['ignore', 'inherit', options.stderr ?? 'inherit'],
        serviceName: basename(path).replace(/\.[cm]?[jt]s$/, ''),
      });
      let exited = false;
      let closed = false;
      child.on('exit', () => {
        exited = true;
      });
      return {
        get pid() {
          return child.pid;
        },
        get connected() {
          return !exited && !closed;
        },
        get exited() {
          return exited;
        },
        stderr: child.stderr,
        send(message) {
          if (!exited && !closed) child.postMessage(message);
        },
        onMessage: (listener) => void child.on('message', listener),
        onExit: (listener) => void child.on('exit', (code) => listener(code, null)),
        // A utility process that cannot start, or dies of a V8 error, ends with 'exit' too.
        onError: () => undefined,
        disconnect() {
          if (exited || closed) return;
          child.postMessage(CLOSE_MESSAGE);
          closed = true;
        },
        kill(signal) {
          if (exited) return;
          // kill() is SIGTERM; a hard kill (a worker past its grace) goes by pid.
          if (signal !== 'SIGKILL' || child.pid === undefined) return void child.kill();
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // Already gone: its 'exit' is on the way.
          }
        },
      };
    },
  };
}
