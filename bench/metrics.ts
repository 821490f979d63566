/**
 * Metrics benchmark: the feature extractor's speed per backend (the InceptionV3 bundled with
 * nsfwjs, 299² input), the time of one KID evaluation at the default sample counts, FID's symmetric
 * eigen solves at 2048², and what an in-training evaluation costs at the CPU defaults. Prints one
 * JSON document on stdout (progress on stderr).
 *
 *   node --import tsx bench/metrics.ts [--backends wasm,cpu] [--images 16] [--cpu-images 2] [--skip-fid]
 *        [--skip-js-large]   (no plain-JavaScript KID at the GPU defaults: ~2 minutes)
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { type BackendName, selectBackend } from '../core/backend/select.js';
import { FeaturePair, featureSet } from '../core/metrics/features.js';
import { fidFromPair, frechetInceptionDistance } from '../core/metrics/fid.js';
import { loadBundledInception } from '../core/metrics/inception.js';
import { kernelInceptionDistance } from '../core/metrics/kid.js';
import { covariance, matMul, sqrtPsd, symmetricEigen } from '../core/metrics/linalg.js';
import { defaultMetricsConfig, EVALUATION_OVERHEAD_S, SIZE_LADDER } from '../core/metrics/options.js';
import { precisionRecall } from '../core/metrics/precision-recall.js';
import { tfDot } from '../core/metrics/tf-dot.js';
import { Rng } from '../core/random/rng.js';

const { values: args } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm,cpu' },
    images: { type: 'string', default: '16' },
    'cpu-images': { type: 'string', default: '2' },
    'skip-fid': { type: 'boolean', default: false },
    'skip-js-large': { type: 'boolean', default: false },
  },
});
const log = (line: string): void => void process.stderr.write(`[metrics] ${line}\n`);
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;

/** Images like a 16² dataset upsampled: random 64 × 64 RGB (the cost does not depend on content). */
function images(n: number): Uint8Array {
  const rng = Rng.fromSeed(1);
  return Uint8Array.from({ length: n * 64 * 64 * 3 }, () => rng.nextInt(256));
}

/** Gaussian-ish features (non-negative, like post-ReLU averages). */
function features(n: number, dim = 2048, seed = 2): Float32Array {
  const rng = Rng.fromSeed(seed);
  return Float32Array.from({ length: n * dim }, () => Math.abs(rng.nextFloat() + rng.nextFloat() - 1));
}

async function extractorSpeed(name: BackendName, n: number): Promise<Record<string, unknown>> {
  try {
    await selectBackend({ prefer: name });
  } catch (err) {
    return { backend: name, error: (err as Error).message };
  }
  let t0 = performance.now();
  const inception = await loadBundledInception();
  const loadSeconds = seconds(t0);
  try {
    const batch = name === 'cpu' ? 1 : 8;
    const px = images(n);
    // Warm-up: one batch (kernels compile, buffers grow).
    t0 = performance.now();
    await inception.extract({ pixels: px.subarray(0, Math.min(batch, n) * 64 * 64 * 3), count: Math.min(batch, n), resolution: 64, channels: 3 }, { batch });
    const warmupSeconds = seconds(t0);
    t0 = performance.now();
    await inception.extract({ pixels: px, count: n, resolution: 64, channels: 3 }, { batch });
    const s = seconds(t0);
    log(`${name}: ${(n / s).toFixed(2)} features/s (${n} images, batch ${batch}); load ${loadSeconds.toFixed(2)} s, warm-up ${warmupSeconds.toFixed(2)} s`);
    return { backend: name, tfBackend: tf.getBackend(), images: n, batch, featuresPerSecond: round(n / s), secondsPerImage: round(s / n), loadSeconds: round(loadSeconds), warmupSeconds: round(warmupSeconds) };
  } finally {
    inception.dispose();
  }
}

/**
 * One evaluation's metrics on random 2048-d features: in plain JavaScript (Float64 products made on
 * demand; `js: false` skips it) and as the engine does it (the products on the TF.js backend first).
 */
async function timeKid(reals: number, fakes: number, js = true): Promise<Record<string, unknown>> {
  const real = featureSet(features(reals, 2048, 3), 2048);
  const fake = featureSet(features(fakes, 2048, 4), 2048);
  const out: Record<string, unknown> = { reals, fakes, backend: tf.getBackend() };
  if (js) {
    const pair = new FeaturePair(real, fake);
    let t0 = performance.now();
    const kid = kernelInceptionDistance(pair);
    const kidSeconds = seconds(t0);
    t0 = performance.now();
    const fid = fidFromPair(pair);
    const fidSeconds = seconds(t0);
    t0 = performance.now();
    precisionRecall(pair);
    const prSeconds = seconds(t0);
    log(`JS: KID at ${reals} reals × ${fakes} fakes ${kidSeconds.toFixed(3)} s (subset ${kid.subsetSize}, with its dot products); then FID ${fidSeconds.toFixed(3)} s (${fid.method}), P/R ${prSeconds.toFixed(3)} s`);
    Object.assign(out, { jsKidSeconds: round(kidSeconds), subsetSize: kid.subsetSize, jsFidSecondsAfterKid: round(fidSeconds), jsPrecisionRecallSecondsAfterKid: round(prSeconds) });
  }
  const pair = new FeaturePair(real, fake);
  let t0 = performance.now();
  await pair.fill(tfDot);
  const fillSeconds = seconds(t0);
  t0 = performance.now();
  kernelInceptionDistance(pair);
  const kidSeconds = seconds(t0);
  t0 = performance.now();
  fidFromPair(pair);
  precisionRecall(pair);
  const restSeconds = seconds(t0);
  log(`engine: dot products on ${tf.getBackend()} ${fillSeconds.toFixed(3)} s, then KID ${kidSeconds.toFixed(3)} s, FID + P/R ${restSeconds.toFixed(3)} s`);
  return { ...out, engineDotSeconds: round(fillSeconds), engineKidSeconds: round(kidSeconds), engineKidTotalSeconds: round(fillSeconds + kidSeconds), engineFidAndPrSeconds: round(restSeconds) };
}

function timeFidEigen(): Record<string, unknown> {
  const d = 2048;
  const n = 2100; // more samples than dimensions: the covariance route
  const real = featureSet(features(n, d, 5), d);
  let t0 = performance.now();
  const cov = covariance(real);
  const covarianceSeconds = seconds(t0);
  t0 = performance.now();
  const eigenValuesOnly = symmetricEigen(cov, d);
  const valuesSeconds = seconds(t0);
  t0 = performance.now();
  const root = sqrtPsd(cov, d); // eigenvalues and eigenvectors, then V·√Λ·Vᵀ
  const sqrtSeconds = seconds(t0);
  t0 = performance.now();
  matMul(root, cov, d);
  const matMulSeconds = seconds(t0);
  void eigenValuesOnly;
  t0 = performance.now();
  const fid = frechetInceptionDistance(real, featureSet(features(n, d, 6), d), { method: 'covariance' });
  const fidSeconds = seconds(t0);
  log(`FID at 2048²: eigenvalues ${valuesSeconds.toFixed(1)} s, √Σ (with eigenvectors) ${sqrtSeconds.toFixed(1)} s, a 2048³ product ${matMulSeconds.toFixed(1)} s, whole FID of ${n} vs ${n} ${fidSeconds.toFixed(1)} s`);
  return { dim: d, samples: n, covarianceSeconds: round(covarianceSeconds, 2), eigenvaluesOnlySeconds: round(valuesSeconds, 2), sqrtWithEigenvectorsSeconds: round(sqrtSeconds, 2), matMul2048Seconds: round(matMulSeconds, 2), wholeFidSeconds: round(fidSeconds, 2), method: fid.method };
}

const extractor: Record<string, unknown>[] = [];
for (const name of (args.backends as string).split(',').map((s) => s.trim()) as BackendName[]) {
  extractor.push(await extractorSpeed(name, name === 'cpu' ? Number(args['cpu-images']) : Number(args.images)));
}
const cpu = defaultMetricsConfig(10_000, 'cpu');
const gpu = defaultMetricsConfig(10_000, 'gpu');
await selectBackend({ prefer: 'wasm' }); // the engine's products on the training backend of a CPU machine
const [smallestReals, smallestFakes] = SIZE_LADDER.at(-1)!;
const kid = {
  cpuDefault: await timeKid(cpu.reals, cpu.fakes),
  smallest: await timeKid(smallestReals, smallestFakes),
  gpuDefault: await timeKid(gpu.reals, gpu.fakes, !args['skip-js-large']),
};
const wasm = extractor.find((e) => e.backend === 'wasm' && typeof e.featuresPerSecond === 'number');
const rate = (wasm?.featuresPerSecond as number | undefined) ?? NaN;
const evaluation = {
  note: 'An in-training evaluation at the CPU defaults on wasm: the generated images through the extractor, plus the dataset images once per project.',
  fakes: cpu.fakes,
  reals: cpu.reals,
  predictedSecondsWarmCache: round(cpu.fakes / rate + EVALUATION_OVERHEAD_S, 1),
  predictedSecondsColdCache: round((cpu.fakes + cpu.reals) / rate + EVALUATION_OVERHEAD_S, 1),
};
const fidEigen = args['skip-fid'] ? null : timeFidEigen();
console.log(JSON.stringify({ extractor, kid, evaluation, fidEigen }, null, 2));
