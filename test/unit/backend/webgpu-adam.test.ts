/**
 * The fused webgpu Adam (core/backend/kernels/webgpu-adam.ts: one dispatch per variable, p, m and
 * v updated in place) against core/train/adam.ts's tensor ops on the cpu backend: 12 steps,
 * resumed from a checkpoint after 6, within 1e-6 relative for parameters and both moments. The
 * webgpu part needs an adapter: opt-in with ATELIER_TEST_WEBGPU=1 (a GPU, or Mesa's llvmpipe
 * through Dawn, slowly).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { installDispatchCounter } from '../../../core/backend/dispatch-count.js';
import { fusedAdamAvailable } from '../../../core/backend/kernels/webgpu-adam.js';
import { readFloats } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { ParamStore } from '../../../core/nets/params.js';
import { Adam } from '../../../core/train/adam.js';
import { randn, relErr, sizeOf } from '../../helpers/numeric.js';

const WEBGPU = process.env['ATELIER_TEST_WEBGPU'] === '1';

// Shapes at the edges: a scalar, a vector under a workgroup, a conv weight, one over 64² elements.
const SHAPES: Record<string, number[]> = { s: [], b: [7], w: [3, 3, 4, 8], big: [70, 75] };
const OPTS = { lr: 0.01, beta1: 0.5, beta2: 0.99, epsilon: 1e-8 };
const STEPS = 12;
const RESUME_AT = 6;

/** The gradient of variable `name` at step t (1-based): the same numbers on every backend. */
function gradOf(name: string, t: number): tf.Tensor {
  const shape = SHAPES[name] as number[];
  const seed = t * 100 + Object.keys(SHAPES).indexOf(name);
  // Some steps with large gradients, some tiny: v spans orders of magnitude.
  const scale = t % 3 === 0 ? 30 : t % 3 === 1 ? 1e-3 : 1;
  return tf.tensor(randn(sizeOf(shape), seed).map((x) => x * scale), shape);
}

function makeStore(seed: number): ParamStore {
  const store = new ParamStore(seed, 'T.');
  for (const [name, shape] of Object.entries(SHAPES)) store.normal(name, shape);
  return store;
}

async function snapshot(store: ParamStore, adam: Adam): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const p of store.all()) out.set(p.name, await readFloats(p.variable));
  for (const { name, tensor } of adam.namedMoments('opt')) out.set(name, await readFloats(tensor));
  return out;
}

function applyStep(store: ParamStore, adam: Adam, t: number): void {
  const grads = store.all().map((p) => ({ name: p.variable.name, tensor: gradOf(p.name.slice(2), t) }));
  adam.applyGradients(grads);
  tf.dispose(grads.map((g) => g.tensor));
}

/** Steps `from`..STEPS on a fresh optimiser, restored from `restore` (params, moments) when given. */
async function run(restore: Map<string, Float32Array> | undefined, from: number, to: number): Promise<{ state: Map<string, Float32Array>; store: ParamStore; adam: Adam }> {
  const store = makeStore(5);
  const adam = new Adam(store.all(), OPTS);
  if (restore !== undefined) {
    for (const p of store.all()) p.variable.assign(tf.tensor(restore.get(p.name) as Float32Array, p.variable.shape));
    for (const { name, tensor } of adam.namedMoments('opt')) (tensor as tf.Variable).assign(tf.tensor(restore.get(name) as Float32Array, tensor.shape));
    adam.setStep(from - 1);
  }
  for (let t = from; t <= to; t++) applyStep(store, adam, t);
  return { state: await snapshot(store, adam), store, adam };
}

describe('fused Adam on webgpu', () => {
  it('is not used on cpu or wasm (their path is the tensor ops)', async () => {
    await selectBackend({ prefer: 'cpu' });
    assert.equal(fusedAdamAvailable(), false);
    await selectBackend({ prefer: 'wasm' });
    assert.equal(fusedAdamAvailable(), false);
  });

  it('matches core/train/adam.ts on cpu within 1e-6 over 12 steps, resumed from a checkpoint after 6', { skip: WEBGPU ? false : 'set ATELIER_TEST_WEBGPU=1 to run' }, async () => {
    // Reference: the tensor ops on cpu, uninterrupted.
    await selectBackend({ prefer: 'cpu' });
    const ref = await run(undefined, 1, STEPS);
    ref.adam.dispose();
    ref.store.dispose();

    await selectBackend({ prefer: 'webgpu' });
    assert.equal(fusedAdamAvailable(), true);
    const first = await run(undefined, 1, RESUME_AT);
    // A variable whose data another tensor shares: written in place, the other must not change.
    const sharer = first.store.all()[2]?.variable as tf.Variable;
    const other = tf.variable(sharer.clone(), false);
    sharer.assign(other);
    const otherBefore = await readFloats(other);
    const checkpoint = await snapshot(first.store, first.adam);

    // One more step on it, counted: one dispatch per variable, and the only uploads are the
    // host-made gradients (no scalar uploads); no tensor left behind.
    const counter = installDispatchCounter();
    const tensorsBefore = tf.memory().numTensors;
    counter.start();
    applyStep(first.store, first.adam, RESUME_AT + 1);
    await readFloats(sharer);
    const counts = counter.stop();
    const nVars = Object.keys(SHAPES).length;
    assert.equal(counts.byOp['FusedAdam']?.dispatches, nVars);
    assert.equal(counts.dispatches - (counts.byOp['Add']?.dispatches ?? 0) - (counts.byOp['ZerosLike']?.dispatches ?? 0), nVars, 'only the fused kernel, and the one copy of the shared variable');
    assert.equal(counts.uploads, nVars);
    assert.equal(counts.uploadBytes, 4 * Object.values(SHAPES).reduce((a, s) => a + sizeOf(s), 0));
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor leaked');
    assert.deepEqual(await readFloats(other), otherBefore, 'a tensor sharing the variable’s data is untouched');
    other.dispose();
    first.adam.dispose();
    first.store.dispose();

    // Resume from the checkpoint (step 6) on fresh variables and optimiser; run to the end.
    const resumed = await run(checkpoint, RESUME_AT + 1, STEPS);
    for (const [name, want] of ref.state) {
      const got = resumed.state.get(name) as Float32Array;
      const err = relErr(got, want);
      assert.ok(err < 1e-6, `${name}: ${err}`);
    }
    assert.ok(relErr(resumed.state.get('T.w') as Float32Array, checkpoint.get('T.w') as Float32Array) > 1e-3, 'the weights moved after resuming');
    resumed.adam.dispose();
    resumed.store.dispose();
  });
});
