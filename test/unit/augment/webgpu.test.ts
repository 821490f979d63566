/**
 * The augmentation on webgpu against cpu: outputs, gradients to the images (gatherND forward,
 * scatterND adjoint: repeated indices must add up) and R1's double backprop through `bgcfnc`.
 * Needs a WebGPU adapter: opt-in with ATELIER_TEST_WEBGPU=1 (a GPU, or llvmpipe slowly).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { NO_TRANSFORMS, pipeSpec } from '../../../core/augment/config.js';
import { diffAugment, type DiffAugmentPart } from '../../../core/augment/diffaugment.js';
import { AugmentPipe } from '../../../core/augment/pipeline.js';
import { selectBackend } from '../../../core/backend/select.js';
import { Rng } from '../../../core/random/rng.js';
import { onBackend, randn, relErr } from '../../helpers/numeric.js';
import { TRANSFORMS } from './helpers.js';

const SHAPE: [number, number, number, number] = [4, 16, 16, 3];
const SIZE = SHAPE.reduce((a, b) => a * b);
const X = randn(SIZE, 41).map((v) => Math.tanh(v));
const WEIGHTS = randn(SIZE, 42);
const THETA = randn(3 * 3 * 3 * 4, 43).map((v) => v * 0.3);
const WEBGPU = process.env['ATELIER_TEST_WEBGPU'] === '1';

type Aug = (x: tf.Tensor4D) => tf.Tensor4D;

/** Each case draws its parameters from its own seed, so both backends see the same augmentation. */
function cases(): Array<[string, () => Aug]> {
  const out: Array<[string, () => Aug]> = [];
  for (const name of [...TRANSFORMS, 'bgcfnc']) {
    out.push([
      name,
      () => {
        const pipe = new AugmentPipe(name === 'bgcfnc' ? pipeSpec('bgcfnc') : { ...NO_TRANSFORMS, [name]: 1 });
        const params = pipe.sample(SHAPE, 1, Rng.fromSeed(51));
        return (x) => pipe.run(x, params);
      },
    ]);
  }
  for (const part of ['color', 'translation', 'cutout'] as DiffAugmentPart[]) out.push([`diffaugment ${part}`, () => (x) => diffAugment(x, [part], Rng.fromSeed(52))]);
  return out;
}

describe('augmentation on webgpu', { skip: WEBGPU ? false : 'set ATELIER_TEST_WEBGPU=1 to run' }, () => {
  for (const [name, make] of cases()) {
    it(`${name}: output and gradient equal cpu's`, async () => {
      await selectBackend({ prefer: 'webgpu' });
      const run = (what: 'y' | 'dx') => () => {
        const aug = make();
        const x = tf.tensor4d(X, SHAPE);
        if (what === 'y') return aug(x);
        return tf.grad((xx: tf.Tensor) => aug(xx as tf.Tensor4D).mul(tf.tensor4d(WEIGHTS, SHAPE)).sum())(x);
      };
      for (const what of ['y', 'dx'] as const) {
        const cpu = await onBackend('cpu', run(what));
        const gpu = await onBackend('webgpu', run(what));
        assert.ok(relErr(gpu, cpu) < 1e-4, `${name} ${what}: relative error ${relErr(gpu, cpu)}`);
      }
    });
  }

  it("R1's double backprop through bgcfnc equals cpu's", async () => {
    const r1Grad = () => {
      const aug = cases().find(([n]) => n === 'bgcfnc')![1]();
      const theta = tf.tensor4d(THETA, [3, 3, 3, 4]);
      const x = tf.tensor4d(X, SHAPE);
      const d = (t: tf.Tensor, xx: tf.Tensor4D) => tf.conv2d(aug(xx), t as tf.Tensor4D, 1, 'same').square().mean([1, 2, 3]).sum();
      return tf.grad((t: tf.Tensor) => tf.grad((xx: tf.Tensor) => d(t, xx as tf.Tensor4D))(x).square().sum())(theta);
    };
    const cpu = await onBackend('cpu', r1Grad);
    const gpu = await onBackend('webgpu', r1Grad);
    assert.ok(relErr(gpu, cpu) < 1e-3, `relative error ${relErr(gpu, cpu)}`);
  });
});
