/** askWorker: one question to a short-lived worker — its answer, its death with stderr's last line, a time limit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../../core/api/errors.js';
import { askWorker } from '../../../core/jobs/ask-worker.js';

const WORKER = new URL('../../fixtures/workers/asked-worker.ts', import.meta.url);

function ask(mode: string, timeoutMs = 20_000): Promise<{ doubled: number }> {
  return askWorker(WORKER, {
    spawn: { args: [mode] },
    request: { n: 21 },
    timeoutMs,
    answer: (m) => m as { doubled: number },
    timedOut: () => new UserError('internal', 'took too long'),
    died: (why, lastLine) => new UserError('internal', `died (${why}): ${lastLine}`),
  });
}

test('the first message is the answer', async () => {
  assert.deepEqual(await ask('answer'), { doubled: 42 });
});

test('a worker that dies is rejected with its exit and the last line it printed', async () => {
  await assert.rejects(ask('die'), (e: Error) => e instanceof UserError && e.message === 'died (code 3): the model file is damaged');
});

test('a worker past the time limit is killed and rejected', async () => {
  await assert.rejects(ask('hang', 1500), (e: Error) => e instanceof UserError && e.message === 'took too long');
});
