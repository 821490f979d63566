/**
 * tfjs-backend-wasm's threaded SIMD build under Node. TF.js 4.22 turns threads off under Node
 * (WASM_HAS_MULTITHREAD_SUPPORT is false there) because its loader assumes a browser; three shims
 * make the same binary run on worker_threads:
 *   1. the pthread worker script, which TF.js hands to Emscripten as a Blob URL, is written to a
 *      file and its path returned instead (worker_threads loads files, not blob: URLs);
 *   2. the main script each worker imports (`mainScriptUrlOrBlob`, a Blob) is given as a path to
 *      the package's own copy of it;
 *   3. the thread count is not halved: the module caps it at emscripten_num_logical_cores() / 2
 *      (one thread on a 2-core machine); that import of the module, and only it, answers twice the
 *      threads asked for. os.cpus() is left alone.
 * Emscripten's worker pool has 8 workers loaded at start-up, so at most 8 threads.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TransferListItem, Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';

/** Emscripten's pthread pool in tfjs-backend-wasm 4.22 (PThread.initMainThread). */
export const MAX_WASM_THREADS = 8;

/** What the wasm backend runs with, for the compute report. */
export interface WasmThreading {
  /** Threads XNNPACK uses (1: the single-threaded build). */
  threads: number;
  /** Where the number came from. */
  source: 'setting' | 'machine' | 'single-threaded build';
}

/** The thread count for `requested` ('auto' or undefined: every logical core, at most 8). */
export function resolveWasmThreads(requested: number | 'auto' | undefined): { threads: number; source: 'setting' | 'machine' } {
  if (requested === undefined || requested === 'auto' || requested === 0) {
    return { threads: Math.max(1, Math.min(MAX_WASM_THREADS, availableParallelism())), source: 'machine' };
  }
  if (!Number.isInteger(requested) || requested < 1) throw new Error(`threads must be a whole number from 1 to ${MAX_WASM_THREADS}, or auto; got ${requested}`);
  return { threads: Math.min(MAX_WASM_THREADS, requested), source: 'setting' };
}

let shimmed: { workerPath: string; mainPath: string } | undefined;
/** Threads wanted (shim 3 reads it when the module is instantiated). */
let wantedThreads = 1;

/** Installs the shims (once per process) and returns the files they point at. */
function installShims(): { workerPath: string; mainPath: string } {
  if (shimmed !== undefined) return shimmed;
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const { wasmWorkerContents } = require(join(pkgDir, 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const dir = mkdtempSync(join(tmpdir(), 'atelier-wasm-'));
  // As TF.js does for its Blob: the template string's newlines back to escapes inside the script's strings.
  const workerPath = join(dir, 'tfjs-backend-wasm-threaded-simd.worker.cjs');
  writeFileSync(workerPath, wasmWorkerContents.replace(/\n/g, '\\n'));
  const mainPath = join(pkgDir, 'wasm-out/tfjs-backend-wasm-threaded-simd.js');

  // 1. The worker script's Blob URL → the file.
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob) => (obj instanceof Blob && obj.type === 'application/javascript' && obj.size === new Blob([wasmWorkerContents.replace(/\n/g, '\\n')]).size ? workerPath : createObjectURL(obj));
  // 2. The main script, posted to each worker as a Blob → its path.
  const postMessage = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: Worker, value: unknown, transfer?: readonly TransferListItem[]) {
    const msg = value as { cmd?: string; urlOrBlob?: unknown } | null;
    if (msg !== null && typeof msg === 'object' && msg.cmd === 'load' && msg.urlOrBlob instanceof Blob) msg.urlOrBlob = mainPath;
    return postMessage.call(this, value, transfer);
  };
  // 3. The module's core count, as it instantiates: twice the threads wanted, so halving gives them.
  const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (...args: unknown[]) => Promise<unknown>;
  (WebAssembly as unknown as { instantiate: (...args: unknown[]) => Promise<unknown> }).instantiate = (source: unknown, imports?: unknown) => {
    const env = (imports as { env?: Record<string, unknown> } | undefined)?.env;
    if (env !== undefined && typeof env['emscripten_num_logical_cores'] === 'function') {
      env['emscripten_num_logical_cores'] = () => 2 * wantedThreads;
    }
    return imports === undefined ? instantiate(source) : instantiate(source, imports);
  };
  shimmed = { workerPath, mainPath };
  return shimmed;
}

/**
 * Before the wasm backend first starts: run the threaded build with `threads` threads (> 1), or
 * the single-threaded SIMD build (1). Has no effect once the backend has started.
 */
export async function prepareWasmThreads(threads: number): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (threads <= 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return;
  }
  wantedThreads = threads;
  installShims();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
}

/**
 * Lets the process exit with the thread pool alive: Emscripten refs a worker while it runs a
 * pthread, and XNNPACK's pool threads run for the module's life, so Node would never exit.
 */
export function unrefWasmWorkers(): void {
  const pthread = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers?: Worker[]; unusedWorkers?: Worker[] } } }).wasm?.PThread;
  if (pthread === undefined) return;
  for (const w of [...(pthread.runningWorkers ?? []), ...(pthread.unusedWorkers ?? [])]) w.unref();
}

/** Threads the running wasm backend uses (1 for the single-threaded build). */
export async function wasmThreadsInUse(): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')) return 1;
  return wasm.getThreadsCount();
}
