/**
 * The Train view's state with its series feed (renderer/src/lib/state/training.svelte.ts): the
 * selected run's series come whole, then only the points after the last kimg as ticks arrive;
 * selecting another run while an answer is out drops that answer (its detail and its points).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../helpers/svelte-runes.js';
import type { RunDetail, RunSummary, TrainProgress, VisionSelection } from '../../../core/api/contract.js';
import { FakeBackend, settle } from './fake-backend.js';

const { StudioState } = await import('../../../renderer/src/lib/state/studio.svelte.js');
const { TrainingState } = await import('../../../renderer/src/lib/state/training.svelte.js');

function run(id: number, status: RunSummary['status'] = 'running'): RunSummary {
  return { id, name: `Run ${id}`, preset: 'baseline', status, kimgDone: 0, kimgTotal: 10, backend: 'wasm', error: null, createdAt: '', updatedAt: '2026-01-01T00:00:00Z', latestCheckpointKimg: null, starred: [] };
}

function detail(id: number, series: RunDetail['series']): RunDetail {
  return { ...run(id), config: {}, series, checkpoints: [], previews: [], alerts: [], evaluations: [], best: null, metrics: { metric: 'kid', extractor: {} } } as unknown as RunDetail;
}

function progress(runId: number, kimg: number, loss: number): TrainProgress {
  return { runId, phase: 'training', kimg, kimgTotal: 10, step: 1, imgPerSec: 50, etaSeconds: 60, stats: { 'Loss/G': loss }, backend: 'wasm' };
}

test('the selected run’s series: whole once, then the points after the last kimg; another run drops the answer still out', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const backend = new FakeBackend();
  const studio = new StudioState(backend);
  const training = new TrainingState(backend, studio);
  backend.emit({ type: 'project.changed', project: { path: '/p', name: 'p' } as never });
  backend.take('train.presets').answer({ presets: [], defaults: null });
  backend.take('runs.list').answer([run(2), run(1, 'paused')]);
  await settle();

  // The newest run is shown: all its points are asked for.
  assert.equal(training.selectedId, 2);
  const whole = backend.take('runs.get');
  assert.deepEqual(whole.params, { runId: 2 });
  whole.answer(
    detail(2, {
      'Loss/G': [
        [0.1, 2],
        [0.2, 1.8],
      ],
    }),
  );
  await settle();
  assert.equal(training.detail?.id, 2);
  assert.deepEqual(training.feed.series.get('Loss/G')?.length, 2);

  // A tick: only the points after 0.2 kimg.
  backend.emit({ type: 'run.progress', progress: progress(2, 0.3, 1.7) });
  t.mock.timers.tick(400);
  const more = backend.take('runs.get');
  assert.deepEqual(more.params, { runId: 2, afterKimg: 0.2 });
  more.answer(detail(2, { 'Loss/G': [[0.3, 1.7]] }));
  await settle();
  assert.deepEqual(
    training.feed.series.get('Loss/G')?.map((p) => p[0]),
    [0.1, 0.2, 0.3],
  );

  // Another tick, and the user picks the other run before the answer comes.
  backend.emit({ type: 'run.progress', progress: progress(2, 0.4, 1.6) });
  t.mock.timers.tick(400);
  const late = backend.take('runs.get');
  training.select(1);
  assert.equal(training.feed.series.size, 0, 'the charts empty at once');
  assert.equal(backend.pending.filter((c) => c.method === 'runs.get').length, 0, 'one runs.get at a time');
  late.answer(detail(2, { 'Loss/G': [[0.4, 1.6]] }));
  await settle();
  assert.equal(training.detail, null, 'the old run’s detail is not shown for the new one');
  assert.equal(training.feed.series.size, 0, 'nor its points');
  // Then the new run's points, all of them.
  t.mock.timers.tick(400);
  const other = backend.take('runs.get');
  assert.deepEqual(other.params, { runId: 1 });
  other.answer(detail(1, { 'Loss/D': [[0.5, 0.7]] }));
  await settle();
  const shown = (): number | undefined => training.detail?.id; // read afresh: the assertions narrow `training.detail`
  assert.equal(shown(), 1);
  assert.deepEqual([...training.feed.series.keys()], ['Loss/D']);
});

test('a vision-aided run’s judges: from its checkpoint, then live progress when it is further on; a pick fetches the series', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const backend = new FakeBackend();
  const studio = new StudioState(backend);
  const training = new TrainingState(backend, studio);
  backend.emit({ type: 'project.changed', project: { path: '/p', name: 'p' } as never });
  backend.take('train.presets').answer({ presets: [], defaults: null });
  backend.take('runs.list').answer([run(3)]);
  await settle();
  const first: VisionSelection = { index: 0, kimg: 0.1, picked: 'mobilenetv2', accuracies: { mobilenetv2: 0.96 }, images: 32 };
  const second: VisionSelection = { index: 1, kimg: 0.2, picked: 'inception', accuracies: { inception: 0.9 }, images: 32 };
  backend.take('runs.get').answer({ ...detail(3, { 'Loss/G': [[0.1, 2]] }), vision: { selections: [first] } });
  await settle();
  assert.deepEqual(training.visionSelections(3), [first], 'as the newest checkpoint holds them');

  // A tick, then a pick with the same statistics: shown at once, and the series are fetched again.
  backend.emit({ type: 'run.progress', progress: progress(3, 0.2, 2) });
  t.mock.timers.tick(400);
  backend.take('runs.get').answer({ ...detail(3, {}), vision: { selections: [first] } });
  await settle();
  backend.emit({ type: 'run.progress', progress: { ...progress(3, 0.2, 2), vision: { selections: [first, second], selected: second } } });
  assert.deepEqual(training.visionSelections(3), [first, second]);
  t.mock.timers.tick(400);
  backend.take('runs.get').answer({ ...detail(3, {}), vision: { selections: [first] } });
  await settle();
  assert.deepEqual(training.visionSelections(3), [first, second], 'the live pick stays until a checkpoint holds it');
  // The next tick's progress carries no vision: the picks stay.
  backend.emit({ type: 'run.progress', progress: progress(3, 0.3, 1.5) });
  assert.deepEqual(training.visionSelections(3), [first, second]);
});
