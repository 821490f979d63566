/**
 * wasm on every core: the threaded SIMD build under Node (core/backend/wasm-threads.ts). One
 * seeded training step on 2 threads gives the weights 1 thread gives (within float tolerance), the
 * thread count is the one asked for or the machine's, and the `threads` setting is stored with a
 * run's config (and reads back as automatic from a run stored before it existed) and reaches the
 * CLI. Each thread count runs in its own process (the wasm module's threads are fixed when it
 * starts), which must end on its own: a hang fails the test at the 2-minute timeout.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAX_WASM_THREADS, resolveWasmThreads } from '../../../core/backend/wasm-threads.js';
import { settingsFromFlags, trainOptionsUsage } from '../../../core/cli/train-options-cli.js';
import { resolveTrainConfig, trainConfigFromJson } from '../../../core/train/config.js';
import { relErr } from '../../helpers/numeric.js';

interface StepOut {
  threads: number;
  reason: string;
  loss: number;
  weights: number[];
}

function step(threads: string): StepOut {
  const script = fileURLToPath(new URL('./fixtures/wasm-step.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, threads], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out.trim().split('\n').pop() as string) as StepOut;
}

describe('wasm threads', () => {
  it('a step on every core gives the weights 1 thread gives; the compute report says how many', () => {
    const one = step('1');
    const auto = step('auto');
    const want = Math.min(MAX_WASM_THREADS, availableParallelism());
    assert.equal(one.threads, 1);
    assert.match(one.reason, /1 thread \(as set\)/);
    assert.equal(auto.threads, want);
    assert.match(auto.reason, new RegExp(`${want === 1 ? '1 thread' : `${want} threads`} \\(every core of this machine\\)`));
    // On a 1-core machine, 2 threads by setting.
    const many = want > 1 ? auto : step('2');
    assert.ok(many.threads >= 2);
    assert.ok(Math.abs(one.loss - many.loss) <= 1e-6 * Math.abs(one.loss), `loss ${one.loss} vs ${many.loss}`);
    assert.equal(one.weights.length, many.weights.length);
    assert.ok(relErr(many.weights, one.weights) < 1e-6, `weights differ by ${relErr(many.weights, one.weights)}`);
  });

  it('resolves a setting: a number as given (at most 8), blank as the machine', () => {
    assert.deepEqual(resolveWasmThreads(3), { threads: 3, source: 'setting' });
    assert.deepEqual(resolveWasmThreads(64), { threads: MAX_WASM_THREADS, source: 'setting' });
    assert.equal(resolveWasmThreads('auto').source, 'machine');
    assert.equal(resolveWasmThreads(undefined).source, 'machine');
    assert.throws(() => resolveWasmThreads(1.5), /whole number from 1 to 8/);
  });

  it('the setting is stored with the run, reads back, and is a CLI flag', () => {
    const facts = { images: 100, resolution: 32, channels: 3, numClasses: 0 };
    const set = resolveTrainConfig({ preset: 'baseline', kimg: 1, advanced: { threads: 2 } }, facts, 'cpu');
    assert.equal(set.threads, 2);
    const stored = JSON.parse(JSON.stringify(set)) as unknown;
    assert.equal(trainConfigFromJson(stored, 'run 1').threads, 2);
    const blank = resolveTrainConfig({ preset: 'baseline', kimg: 1 }, facts, 'cpu');
    assert.equal(blank.threads, null);
    // A run stored before the setting existed: automatic.
    const old = JSON.parse(JSON.stringify(set)) as Record<string, unknown>;
    delete old['threads'];
    assert.equal(trainConfigFromJson(old, 'run 1').threads, null);
    assert.match(trainOptionsUsage(), /--threads N/);
    assert.equal(settingsFromFlags({ preset: 'baseline', kimg: '1', threads: '2' }, {}).advanced?.threads, 2);
  });
});
