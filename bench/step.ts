/**
 * Training-step benchmark: ms per step (one D update + one G update, non-saturating loss, Adam,
 * no R1) and images/s, for every TF.js backend that loads, at several resolutions. Prints one JSON
 * document on stdout (progress on stderr).
 *
 *   node --import tsx bench/step.ts [--sizes 32,64,128] [--batch 32|auto] [--steps 3]
 *        [--backends tensorflow-gpu,tensorflow,webgpu,wasm,cpu] [--channel-base 2048]
 *        [--channel-max 128] [--step-budget-s 20] [--size-budget-s 120] [--profile]
 *        [--flags WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64,…] [--count] [--threads N] [--no-torch]
 *        [--pipeline] [--dawn-enable skip_validation,…] [--dawn-disable lazy_clear_resource_on_first_use,…]
 *
 * Each backend runs in its own child process (a clean engine, and a hung backend can be killed).
 * `--batch auto`: a batch-2 probe step, then the largest power of two ≤ 32 whose predicted step
 * time fits --step-budget-s. Timed steps stop early once --size-budget-s is spent. `--profile`
 * adds one step under tf.profile: the kernel count and the kernels' own times (GPU timestamps on
 * webgpu), against the step's wall time — how much is dispatch overhead.
 *
 * `--count` (webgpu): one more step with the backend's real work counted (core/backend/
 * dispatch-count.ts): GPU dispatches, CPU→GPU uploads, buffer creations, compute passes and
 * submits, by kernel and by phase (forward, backward, optimizer). Counts are exact on any adapter,
 * a software one included, where times are not.
 *
 * `--threads N` (default 1): wasm computes on N threads (core/backend/wasm-threads.ts), and the
 * PyTorch twin (bench/reference/step.py) runs in the same invocation on N threads, at the same
 * sizes and batch, when a python3 here imports torch (`--no-torch` skips it); each size then gets
 * the ratio backend ms / PyTorch ms.
 *
 * `--pipeline`: after the timed steps, as many again back to back with each step's losses read
 * one step late (what the training loop does), so a GPU is not left idle at a sync point each
 * step; `pipelinedMsPerStep` beside `msPerStep`. `--dawn-enable` / `--dawn-disable`: Dawn toggles
 * for the webgpu adapter (core/backend/webgpu.ts `dawnFlags`); `--flags`: TF.js flags. The sweep of
 * both is bench/webgpu-sweep.sh.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { type DispatchCounts, installDispatchCounter, topOps } from '../core/backend/dispatch-count.js';
import { readScalarsAndDispose } from '../core/backend/read.js';
import { DAWN_FLAGS_ENV } from '../core/backend/webgpu.js';
import { BACKEND_NAMES, type BackendName, selectBackend } from '../core/backend/select.js';
import { channelsAt, type NetConfig } from '../core/nets/config.js';
import { Discriminator } from '../core/nets/discriminator.js';
import { Generator } from '../core/nets/generator.js';
import { BasicTrainer } from '../core/train/basic-step.js';
import { median } from './lib/stats.js';
import { workerExecArgv } from '../core/jobs/fork-worker.js';

interface Options {
  sizes: number[];
  batch: number | 'auto';
  steps: number;
  backends: BackendName[];
  channelBase: number;
  channelMax: number;
  stepBudgetS: number;
  sizeBudgetS: number;
  backendTimeoutS: number;
  /** Profile one extra step: kernels by name (count, GPU/CPU kernel ms where the backend times them). */
  profile: boolean;
  /** TF.js flags set before the backend starts, e.g. WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64. */
  flags: Record<string, string>;
  /** Count one step's dispatches, uploads, passes and submits (webgpu). */
  count: boolean;
  /** Threads for wasm and for PyTorch (same count, for the ratio); default 1. */
  threads: number;
  /** Run the PyTorch twin when torch imports; default true. */
  torch: boolean;
  /** Also time steps run back to back with each step's losses read one step late (as the training loop does). */
  pipeline: boolean;
  /** Dawn toggles for webgpu: `enable-dawn-features=…` / `disable-dawn-features=…` strings. */
  dawn: string[];
}

interface SizeResult {
  resolution: number;
  batch: number;
  /** Timed steps (after one warm-up step at this batch). */
  steps: number;
  msPerStep: { median: number; min: number; all: number[] };
  imagesPerSecond: number;
  params: { G: number; D: number };
  channels: Record<string, number>;
  note?: string;
  profile?: StepProfile;
  counts?: StepCounts;
  /** ms per step / PyTorch's at the same size, batch and thread count. */
  vsTorch?: { torchMs: number; ratio: number };
  /** --pipeline: ms per step over the same number of steps, each step's losses read after the next is queued. */
  pipelinedMsPerStep?: number;
}

/** One step's real webgpu work (see --count). */
interface StepCounts extends Omit<DispatchCounts, 'byOp'> {
  /** Ops by dispatches, most first (all of them). */
  byOp: Array<{ op: string; calls: number; dispatches: number; uploads: number; uploadBytes: number }>;
}

interface StepProfile {
  /** Kernels one step dispatched. */
  kernels: number;
  /** Sum of the kernels' own times (timestamp queries on webgpu); null where the backend does not time them. */
  kernelMs: number | null;
  wallMs: number;
  /** The kernels taking the most time (or the most frequent, untimed), by name. */
  top: Array<{ name: string; count: number; ms: number | null }>;
}

interface BackendResult {
  name: BackendName;
  ok: boolean;
  /** Why it did not load, or what was started. */
  reason: string;
  added?: string[];
  /** wasm's CPU threads. */
  threads?: number;
  sizes?: SizeResult[];
  error?: string;
}

function parseArgs(argv: string[]): Options & { child?: BackendName } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const batch = get('batch') ?? 'auto';
  const opts: Options & { child?: BackendName } = {
    sizes: (get('sizes') ?? '32,64,128').split(',').map(Number),
    batch: batch === 'auto' ? 'auto' : Number(batch),
    steps: Number(get('steps') ?? 3),
    backends: (get('backends')?.split(',') ?? [...BACKEND_NAMES]) as BackendName[],
    channelBase: Number(get('channel-base') ?? 2048),
    channelMax: Number(get('channel-max') ?? 128),
    stepBudgetS: Number(get('step-budget-s') ?? 20),
    sizeBudgetS: Number(get('size-budget-s') ?? 120),
    backendTimeoutS: Number(get('backend-timeout-s') ?? 1200),
    profile: argv.includes('--profile'),
    count: argv.includes('--count'),
    threads: Number(get('threads') ?? 1),
    torch: !argv.includes('--no-torch'),
    pipeline: argv.includes('--pipeline'),
    dawn: [get('dawn-enable'), get('dawn-disable')].flatMap((v, i) => (v === undefined ? [] : [`${i === 0 ? 'enable' : 'disable'}-dawn-features=${v}`])),
    flags: Object.fromEntries((get('flags') ?? '').split(',').filter((f) => f !== '').map((f) => f.split('=') as [string, string])),
  };
  const child = get('child');
  if (child !== undefined) opts.child = child as BackendName;
  return opts;
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** One step, timed to the point its losses are read back (which waits for a GPU to finish). */
async function timedStep(trainer: BasicTrainer, reals: tf.Tensor4D): Promise<number> {
  const t0 = performance.now();
  await readScalarsAndDispose(trainer.step(reals));
  return performance.now() - t0;
}

/** `steps` steps back to back, each one's losses read after the next is queued; ms per step. */
async function pipelinedSteps(trainer: BasicTrainer, reals: tf.Tensor4D, steps: number): Promise<number> {
  const t0 = performance.now();
  let previous: Promise<unknown> | null = null;
  for (let i = 0; i < steps; i++) {
    const read = readScalarsAndDispose(trainer.step(reals));
    if (previous !== null) await previous;
    previous = read;
  }
  await previous;
  return (performance.now() - t0) / steps;
}

/** One step with the webgpu backend's work counted, Adam's update as the 'optimizer' phase. */
async function countStep(trainer: BasicTrainer, reals: tf.Tensor4D): Promise<StepCounts> {
  const counter = installDispatchCounter();
  const restore: Array<() => void> = [];
  for (const opt of [trainer.gOpt, trainer.dOpt]) {
    const orig = opt.applyGradients.bind(opt);
    opt.applyGradients = (g) => counter.phase('optimizer', () => orig(g));
    restore.push(() => delete (opt as { applyGradients?: unknown }).applyGradients);
  }
  counter.start();
  let counts: DispatchCounts;
  try {
    await readScalarsAndDispose(trainer.step(reals));
  } finally {
    counts = counter.stop();
    for (const r of restore) r();
  }
  const { byOp: _byOp, ...rest } = counts;
  return { ...rest, byOp: topOps(counts, Infinity) };
}

/** One step under tf.profile: how many kernels, and where their time goes. */
async function profileStep(trainer: BasicTrainer, reals: tf.Tensor4D): Promise<StepProfile> {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await readScalarsAndDispose(trainer.step(reals));
  });
  const wallMs = performance.now() - t0;
  const byName = new Map<string, { count: number; ms: number }>();
  let timed = true;
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : NaN;
    if (!Number.isFinite(ms)) timed = false;
    const e = byName.get(k.name) ?? { count: 0, ms: 0 };
    e.count++;
    e.ms += Number.isFinite(ms) ? ms : 0;
    total += Number.isFinite(ms) ? ms : 0;
    byName.set(k.name, e);
  }
  const top = [...byName.entries()]
    .sort((a, b) => (timed ? b[1].ms - a[1].ms : b[1].count - a[1].count))
    .slice(0, 12)
    .map(([name, e]) => ({ name, count: e.count, ms: timed ? Number(e.ms.toFixed(2)) : null }));
  return { kernels: info.kernels.length, kernelMs: timed ? Number(total.toFixed(1)) : null, wallMs: Math.round(wallMs), top };
}

async function benchSize(resolution: number, opts: Options, backend: string): Promise<SizeResult> {
  const cfg: Partial<NetConfig> = { resolution, channelBase: opts.channelBase, channelMax: opts.channelMax };
  const G = new Generator(cfg);
  const D = new Discriminator(cfg);
  const trainer = new BasicTrainer(G, D);
  const makeReals = (n: number) => tf.randomUniform([n, resolution, resolution, 3], -1, 1) as tf.Tensor4D;
  let note: string | undefined;
  try {
    let batch: number;
    if (opts.batch === 'auto') {
      const probe = makeReals(2);
      await timedStep(trainer, probe); // first step: Adam's moments, kernel setup
      const ms2 = await timedStep(trainer, probe);
      probe.dispose();
      batch = 2;
      while (batch < 32 && ((ms2 * batch * 2) / 2) / 1000 <= opts.stepBudgetS) batch *= 2;
      note = `auto batch: a batch-2 step took ${ms2.toFixed(0)} ms`;
    } else {
      batch = opts.batch;
    }
    const reals = makeReals(batch);
    const started = performance.now();
    const warm = await timedStep(trainer, reals);
    log(`  ${backend} ${resolution}² batch ${batch}: warm-up ${warm.toFixed(0)} ms`);
    const all: number[] = [];
    while (all.length < opts.steps) {
      all.push(await timedStep(trainer, reals));
      log(`  ${backend} ${resolution}² batch ${batch}: ${(all[all.length - 1] as number).toFixed(0)} ms`);
      if ((performance.now() - started) / 1000 > opts.sizeBudgetS) break;
    }
    let pipelined: number | undefined;
    if (opts.pipeline && all.length > 0) {
      pipelined = await pipelinedSteps(trainer, reals, all.length);
      log(`  ${backend} ${resolution}² batch ${batch}: ${pipelined.toFixed(0)} ms a step, read one step late`);
    }
    let profile: StepProfile | undefined;
    if (opts.profile) profile = await profileStep(trainer, reals);
    let counts: StepCounts | undefined;
    if (opts.count && backend === 'webgpu') counts = await countStep(trainer, reals);
    reals.dispose();
    const med = all.length > 0 ? median(all) : warm; // --steps 0 (a count-only run): the warm-up step
    const channels: Record<string, number> = {};
    for (let r = 4; r <= resolution; r *= 2) channels[String(r)] = channelsAt(G.config, r);
    const result: SizeResult = {
      resolution,
      batch,
      steps: all.length,
      msPerStep: { median: Math.round(med), min: Math.round(all.length > 0 ? Math.min(...all) : warm), all: all.map((x) => Math.round(x)) },
      imagesPerSecond: Number(((batch * 1000) / med).toFixed(2)),
      params: { G: G.params.countTrainable(), D: D.params.countTrainable() },
      channels,
    };
    if (note !== undefined) result.note = note;
    if (pipelined !== undefined) result.pipelinedMsPerStep = Math.round(pipelined);
    if (profile !== undefined) result.profile = profile;
    if (counts !== undefined) result.counts = counts;
    return result;
  } finally {
    trainer.dispose();
    G.dispose();
    D.dispose();
  }
}

/** Child: one backend, all sizes; prints its BackendResult as JSON. */
async function runChild(name: BackendName, opts: Options): Promise<void> {
  let result: BackendResult;
  if (opts.dawn.length > 0) process.env[DAWN_FLAGS_ENV] = opts.dawn.join('|');
  try {
    const choice = await selectBackend({ prefer: name, preferSource: 'bench --backends', threads: opts.threads });
    // After the backend loads: its flags are registered when its package is imported.
    for (const [flag, value] of Object.entries(opts.flags)) tf.env().set(flag, value === 'true' ? true : value === 'false' ? false : Number(value));
    const used = choice.tried[choice.tried.length - 1];
    result = { name, ok: true, reason: used?.reason ?? '', added: choice.added, sizes: [] };
    if (choice.threads !== undefined) result.threads = choice.threads;
    for (const size of opts.sizes) {
      try {
        result.sizes?.push(await benchSize(size, opts, name));
      } catch (e) {
        result.error = `${size}²: ${(e as Error).message}`;
        break;
      }
    }
  } catch (e) {
    const tried = (e as { tried?: { reason: string }[] }).tried;
    result = { name, ok: false, reason: tried?.[0]?.reason ?? (e as Error).message };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

function runBackendInChild(name: BackendName, argv: string[], timeoutS: number): Promise<BackendResult> {
  return new Promise((resolve) => {
    const script = fileURLToPath(import.meta.url);
    // The parent's loader flags (tsx in development; none for a prebuilt bundle).
    const child = spawn(process.execPath, [...workerExecArgv(process.execArgv), script, ...argv, '--child', name], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as BackendResult);
      } catch {
        resolve({ name, ok: false, reason: `benchmark process ended (${signal ?? `exit ${code}`}) without a result${signal === 'SIGKILL' ? ` after ${timeoutS} s` : ''}` });
      }
    });
  });
}

interface TorchResult {
  ok: boolean;
  reason?: string;
  python?: string;
  threads?: number;
  torch?: string;
  blas?: unknown;
  sizes?: Array<{ resolution: number; batch: number; msPerStep: { median: number }; imagesPerSecond: number; params: { G: number; D: number } }>;
}

/** A python3 that imports torch: $ATELIER_PYTHON, then the system's (Debian's python3-torch), then PATH's. */
function torchPython(): string | undefined {
  const candidates = [process.env['ATELIER_PYTHON'], '/usr/bin/python3', 'python3'].filter((c): c is string => c !== undefined && c !== '');
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

/** The PyTorch twin at these sizes/batches and thread count, or why it did not run. */
function runTorch(pairs: Array<{ resolution: number; batch: number }>, opts: Options): Promise<TorchResult> {
  return new Promise((resolve) => {
    const script = fileURLToPath(new URL('./reference/step.py', import.meta.url));
    const args = [
      script,
      '--sizes', pairs.map((p) => p.resolution).join(','),
      '--batch', pairs.map((p) => p.batch).join(','),
      '--steps', String(Math.max(3, opts.steps)),
      '--threads', String(opts.threads),
      '--channel-base', String(opts.channelBase),
      '--channel-max', String(opts.channelMax),
    ];
    const env = { ...process.env, OPENBLAS_NUM_THREADS: String(opts.threads), OMP_NUM_THREADS: String(opts.threads) };
    const python = torchPython();
    if (python === undefined) {
      resolve({ ok: false, reason: 'no python3 here imports torch (install python3-torch, or set ATELIER_PYTHON)' });
      return;
    }
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve({ ok: false, reason: `python3 did not start: ${e.message}` }));
    child.on('exit', (code) => {
      if (code !== 0) {
        resolve({ ok: false, reason: `step.py exited ${code}: ${err.trim().split('\n').pop() ?? ''}` });
        return;
      }
      try {
        const doc = JSON.parse(out) as TorchResult;
        resolve({ ok: true, python, threads: doc.threads, torch: doc.torch, blas: doc.blas, sizes: doc.sizes });
      } catch {
        resolve({ ok: false, reason: 'step.py printed no JSON' });
      }
    });
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  if (opts.child !== undefined) return runChild(opts.child, opts);
  const backends: BackendResult[] = [];
  for (const name of opts.backends) {
    log(`backend ${name}…`);
    backends.push(await runBackendInChild(name, argv, opts.backendTimeoutS));
  }
  // The PyTorch twin at the sizes and batches the backends ran, once per distinct batch plan.
  let torch: TorchResult[] | undefined;
  if (opts.torch) {
    torch = [];
    const plans = new Map<string, Array<{ resolution: number; batch: number }>>();
    for (const b of backends) {
      const pairs = (b.sizes ?? []).map((s) => ({ resolution: s.resolution, batch: s.batch }));
      if (pairs.length > 0) plans.set(JSON.stringify(pairs), pairs);
    }
    for (const pairs of plans.values()) {
      log(`PyTorch twin, ${opts.threads} thread(s): ${pairs.map((p) => `${p.resolution}² batch ${p.batch}`).join(', ')}…`);
      const t = await runTorch(pairs, opts);
      torch.push(t);
      if (!t.ok) {
        log(`  PyTorch twin not run: ${t.reason}`);
        break;
      }
    }
    for (const b of backends) {
      for (const s of b.sizes ?? []) {
        const match = torch.flatMap((t) => t.sizes ?? []).find((t) => t.resolution === s.resolution && t.batch === s.batch);
        if (match !== undefined) s.vsTorch = { torchMs: match.msPerStep.median, ratio: Number((s.msPerStep.median / match.msPerStep.median).toFixed(2)) };
      }
    }
  }
  const doc = {
    benchmark: 'step',
    what: 'one D update + one G update (non-saturating logistic loss, Adam lr 0.0025 β1 0 β2 0.99, no R1), StyleGAN2-style G and residual D from core/nets',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
    config: { channelBase: opts.channelBase, channelMax: opts.channelMax, zDim: 512, wDim: 512, mappingLayers: 2, batch: opts.batch, timedSteps: opts.steps, threads: opts.threads },
    backends,
    ...(torch !== undefined ? { torch } : {}),
  };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

await main();
