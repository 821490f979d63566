/**
 * Picks the TensorFlow.js backend for training: the best one that loads, best first, with the
 * reason each better one was not used (shown to the user), or the one the user named.
 *
 *   tensorflow-gpu  @tensorflow/tfjs-node-gpu (libtensorflow with CUDA)
 *   tensorflow      @tensorflow/tfjs-node (libtensorflow on the CPU)
 *   webgpu          tfjs-backend-webgpu on Dawn (`webgpu` package): Vulkan, Metal, D3D12
 *   wasm            tfjs-backend-wasm (XNNPACK, SIMD)
 *   cpu             plain JavaScript; always there, very slow for training
 *
 * Then registers the kernels and gradients training needs that the chosen backend lacks.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { registerTrainingKernels } from './kernels/index.js';
import { prepareWasmThreads, resolveWasmThreads, unrefWasmWorkers, wasmThreadsInUse } from './wasm-threads.js';
import { startWebGpu } from './webgpu.js';

export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** One candidate's outcome; `reason` says why it failed, or what was started. */
export interface TriedBackend {
  name: BackendName;
  ok: boolean;
  reason: string;
}

export interface BackendChoice {
  /** The candidate in use. */
  name: BackendName;
  /** TF.js's own name for it (`tf.getBackend()`): both native candidates are 'tensorflow'. */
  tfBackend: string;
  /** Every candidate tried, in order, the chosen one last. */
  tried: TriedBackend[];
  /** Kernels and gradients registered for training. */
  added: string[];
  /** Where an explicit choice came from, if any (e.g. '--backend', 'ATELIER_BACKEND'). */
  requestedBy?: string;
  /** CPU threads the wasm backend computes on (wasm only). */
  threads?: number;
}

export interface SelectOptions {
  /** A backend named by the user (setting or `--backend`); default: ATELIER_BACKEND, else automatic. */
  prefer?: string;
  /** Where `prefer` came from, for messages; default '--backend'. */
  preferSource?: string;
  /** Environment to read ATELIER_BACKEND from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * wasm's CPU threads: a number (1 = the single-threaded build), or 'auto'/undefined for every
   * logical core (at most 8). Takes effect when wasm first starts in this process.
   */
  threads?: number | 'auto' | null;
}

/** An explicitly requested backend could not start. */
export class BackendUnavailableError extends Error {
  constructor(
    message: string,
    readonly tried: TriedBackend[],
  ) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

const ALIASES: Record<string, BackendName> = {
  'tfjs-node-gpu': 'tensorflow-gpu',
  '@tensorflow/tfjs-node-gpu': 'tensorflow-gpu',
  cuda: 'tensorflow-gpu',
  'tfjs-node': 'tensorflow',
  '@tensorflow/tfjs-node': 'tensorflow',
};

/** A backend name as typed by a user, or an error that lists the valid ones. */
export function parseBackendName(text: string): BackendName {
  const key = text.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(key)) return key as BackendName;
  const alias = ALIASES[key];
  if (alias !== undefined) return alias;
  throw new Error(`Unknown backend '${text}'. Use one of: ${BACKEND_NAMES.join(', ')}.`);
}

const NATIVE_PACKAGE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

function isMissingPackage(e: unknown, pkg: string): boolean {
  const err = e as { code?: string; message?: string };
  const missingCode = err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND';
  const message = err.message ?? '';
  // Only the package itself: a missing file inside it (its native binding) is a load error.
  return missingCode && (message.includes(`package '${pkg}'`) || message.includes(`module '${pkg}'`));
}

async function tryNative(name: 'tensorflow-gpu' | 'tensorflow'): Promise<string> {
  const pkg = NATIVE_PACKAGE[name];
  try {
    // A variable, so neither TypeScript nor a bundler insists on the optional package.
    const specifier: string = pkg;
    await import(specifier);
  } catch (e) {
    if (isMissingPackage(e, pkg)) {
      throw new Error(`not installed (${pkg} is optional; its libtensorflow download failed at install time or it was left out)`);
    }
    throw new Error((e as Error).message.split('\n')[0] ?? String(e));
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not start`);
  return `${pkg} (libtensorflow)`;
}

let wasmPathsSet = false;

/** The .wasm files: the package's dist folder, or beside this module in a bundle that copied them there. */
function wasmDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  } catch {
    return dirname(fileURLToPath(import.meta.url));
  }
}

async function tryWasm(threads: number | 'auto' | null | undefined): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const want = resolveWasmThreads(threads ?? 'auto');
  // The thread count is fixed when the module first starts.
  if (tf.findBackend('wasm') == null) await prepareWasmThreads(want.threads);
  if (!wasmPathsSet) {
    // A file path to the package's dist folder: Node reads the .wasm from disk, nothing is fetched.
    wasm.setWasmPaths(`${wasmDir()}/`);
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm module did not initialise (see the warning above)');
  unrefWasmWorkers();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const n = await wasmThreadsInUse();
  const why = n !== want.threads ? ` (${want.threads} asked for; the module had already started)` : want.source === 'machine' ? ' (every core of this machine)' : ' (as set)';
  return `XNNPACK, ${simd ? 'SIMD' : 'no SIMD'}, ${n === 1 ? '1 thread' : `${n} threads`}${why}`;
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start');
  return 'plain JavaScript';
}

async function tryOne(name: BackendName, explicit: boolean, threads: SelectOptions['threads']): Promise<string> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      return tryNative(name);
    case 'webgpu': {
      const r = await startWebGpu(explicit);
      if (!r.ok) throw new Error(r.reason);
      return r.detail;
    }
    case 'wasm':
      return tryWasm(threads);
    case 'cpu':
      return tryCpu();
  }
}

/**
 * Starts the best backend that loads (or the one asked for) and registers the training kernels it
 * needs. An explicitly named backend that fails is an error, not a silent fallback.
 */
export async function selectBackend(options: SelectOptions = {}): Promise<BackendChoice> {
  const env = options.env ?? process.env;
  let requested: string | undefined = options.prefer;
  let requestedBy = options.preferSource ?? '--backend';
  if (requested === undefined || requested === '' || requested === 'auto') {
    const fromEnv = env['ATELIER_BACKEND'];
    requested = fromEnv !== undefined && fromEnv !== '' && fromEnv !== 'auto' ? fromEnv : undefined;
    requestedBy = 'ATELIER_BACKEND';
  }
  const explicit = requested !== undefined ? parseBackendName(requested) : undefined;
  const candidates: readonly BackendName[] = explicit !== undefined ? [explicit] : BACKEND_NAMES;

  const tried: TriedBackend[] = [];
  for (const name of candidates) {
    try {
      const reason = await tryOne(name, explicit !== undefined, options.threads);
      tried.push({ name, ok: true, reason });
      const { added } = registerTrainingKernels(tf.getBackend());
      const choice: BackendChoice = { name, tfBackend: tf.getBackend(), tried, added };
      if (name === 'wasm') choice.threads = await wasmThreadsInUse();
      if (explicit !== undefined) choice.requestedBy = requestedBy;
      return choice;
    } catch (e) {
      tried.push({ name, ok: false, reason: (e as Error).message });
    }
  }
  const last = tried[tried.length - 1];
  if (explicit !== undefined && last !== undefined) {
    throw new BackendUnavailableError(
      `The '${explicit}' backend (from ${requestedBy}) could not start: ${last.reason}. ` +
        `Pick another (${BACKEND_NAMES.join(', ')}) or remove ${requestedBy} to choose automatically.`,
      tried,
    );
  }
  throw new BackendUnavailableError(`No TensorFlow.js backend could start: ${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')}`, tried);
}

/** One line for logs and the UI: what runs, and why each better backend does not. */
export function describeChoice(choice: BackendChoice): string {
  const used = choice.tried[choice.tried.length - 1];
  const skipped = choice.tried.filter((t) => !t.ok).map((t) => `${t.name}: ${t.reason}`);
  const by = choice.requestedBy !== undefined ? ` (asked for by ${choice.requestedBy})` : '';
  return `Training on ${choice.name}${by}${used !== undefined ? ` — ${used.reason}` : ''}.` + (skipped.length > 0 ? ` Not used: ${skipped.join('; ')}.` : '');
}
