/**
 * The Merge view's state (renderer/src/lib/state/merge.svelte.ts, compiled as the build compiles
 * it): the form offers the project's models and each run's best (else newest) checkpoint; the
 * newest merge is shown; its progress reaches the view, and a burst of progress that says there
 * are new images asks for the merge's detail once at a time (one more after the burst), never for
 * another merge's; a merge started elsewhere appears at the top.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../helpers/svelte-runes.js';
import type { GallerySources, MergeDetail, MergeProgressInfo, MergeSummary, OnnxProbeInfo, ProjectSummary } from '../../../core/api/contract.js';
import { FakeBackend, settle } from './fake-backend.js';

const { StudioState } = await import('../../../renderer/src/lib/state/studio.svelte.js');
const { MergeViewState } = await import('../../../renderer/src/lib/state/merge.svelte.js');

const project = { path: '/p', id: 'p', name: 'p', schemaVersion: 7, createdAt: '', createdBy: 'test', sizeBytes: 0 } as unknown as ProjectSummary;

function summary(id: number, name: string): MergeSummary {
  return { id, name, status: 'running', error: null, classes: ['a', 'b'], sources: [], root: 0, stages: [], stage: 0, step: 0, fraction: 0, notes: [], modelId: null, createdAt: '', updatedAt: '' };
}
const detail = (id: number, name: string, previews = 0): MergeDetail => ({ ...summary(id, name), previews: Array.from({ length: previews }, (_, i) => ({ id: i + 1, classIndex: i, className: `c${i}`, stage: 0, kimg: 0, dataUrl: '' })), evaluations: [] });
const progress = (mergeId: number, extra: Partial<MergeProgressInfo> = {}): MergeProgressInfo => ({
  mergeId, phase: 'training', stage: 2, stages: 3, kind: 'joint', title: 'Fine-tuning on every class', source: null, step: 4, kimg: 0.032, kimgTotal: 0.064, fraction: 0.75, stats: {}, backend: 'wasm', ...extra,
});

test('Merge view state: candidates, the newest merge, its progress and detail refreshed once at a time', async () => {
  const backend = new FakeBackend();
  const studio = new StudioState(backend);
  const merge = new MergeViewState(backend, studio);
  const loading = studio.refresh();
  backend.take('app.info').answer({ mode: 'browser', version: 'test', nativeDialogs: false });
  backend.take('project.current').answer(project);
  backend.take('project.recent').answer([]);
  await loading;

  const sources = {
    models: [{ id: 4, name: 'Ink cats', resolution: 16, classNames: [] }],
    runs: [
      { id: 2, name: 'Run 2', status: 'done', checkpoints: [{ id: 7, kimg: 1, isBest: true }, { id: 9, kimg: 2, isBest: false }] },
      { id: 3, name: 'Run 3', status: 'paused', checkpoints: [{ id: 10, kimg: 1, isBest: false }, { id: 11, kimg: 3, isBest: false }] },
    ],
    orphaned: 0,
  } as unknown as GallerySources;
  backend.take('gallery.sources').answer(sources);
  backend.take('merge.list').answer([summary(6, 'newest'), summary(5, 'older')]);
  await settle();
  assert.deepEqual(merge.candidates.map((c) => c.source), [
    { kind: 'model', modelId: 4 },
    { kind: 'run', runId: 2, checkpointId: 7 },
    { kind: 'run', runId: 3, checkpointId: 11 },
  ], "a run's best checkpoint, else its newest");
  assert.equal(merge.selectedId, 6, 'the newest merge is shown');
  backend.take('merge.get').answer(detail(6, 'newest'));
  await settle();
  assert.equal(merge.detail?.id, 6);

  // Progress of the shown merge reaches the view; another merge's does not.
  backend.emit({ type: 'merge.progress', progress: progress(5, { previews: true }) });
  assert.equal(merge.progress, null);
  assert.equal(backend.pending.filter((c) => c.method === 'merge.get').length, 0);
  backend.emit({ type: 'merge.progress', progress: progress(6) });
  assert.equal((merge.progress as MergeProgressInfo | null)?.step, 4);
  assert.equal(backend.pending.filter((c) => c.method === 'merge.get').length, 0, 'no new images: nothing asked');

  // A burst of ticks with new images: one request out, one more after it.
  for (let i = 0; i < 3; i++) backend.emit({ type: 'merge.progress', progress: progress(6, { previews: true, step: 5 + i }) });
  assert.equal(backend.pending.filter((c) => c.method === 'merge.get').length, 1);
  backend.take('merge.get').answer(detail(6, 'newest', 1));
  await settle();
  assert.equal(backend.pending.filter((c) => c.method === 'merge.get').length, 1, 'once more for what came meanwhile');
  backend.take('merge.get').answer(detail(6, 'newest', 2));
  await settle();
  assert.equal(backend.pending.filter((c) => c.method === 'merge.get').length, 0);
  assert.deepEqual(merge.detail?.previews.map((p) => p.className), ['c0', 'c1']);

  // A merge started elsewhere (the CLI) appears at the top.
  backend.emit({ type: 'merge.changed', merge: summary(8, 'from the CLI') });
  assert.deepEqual(merge.merges.map((m) => m.id), [8, 6, 5]);
});

test('Merge view state: an added .onnx file is read first; a refusal is kept with the file, a correction reads again, confirming adds it with the corrections', async () => {
  const backend = new FakeBackend();
  const studio = new StudioState(backend);
  const merge = new MergeViewState(backend, studio);
  const loading = studio.refresh();
  backend.take('app.info').answer({ mode: 'browser', version: 'test', nativeDialogs: false });
  backend.take('project.current').answer(project);
  backend.take('project.recent').answer([]);
  await loading;
  backend.take('gallery.sources').answer({ models: [], runs: [], orphaned: 0 } as unknown as GallerySources);
  backend.take('merge.list').answer([]);
  await settle();

  // A TF.js folder joins at once; an ONNX file is read first and is not offered yet.
  merge.addFile('/root/cats-tfjs');
  assert.deepEqual(merge.files.map((f) => f.source), [{ kind: 'tfjs', path: '/root/cats-tfjs' }]);
  merge.addFile('/root/gen.onnx');
  assert.equal(merge.onnx?.reading, true);
  assert.equal(merge.files.length, 1, 'not offered before it is read and confirmed');
  const first = backend.take('merge.probeSource');
  assert.deepEqual(first.params, { path: '/root/gen.onnx' });
  const info = (range: '[-1,1]' | '[0,1]' | '[0,255]'): OnnxProbeInfo => ({
    path: '/root/gen.onnx', label: 'gen.onnx', latent: { name: 'z', size: 16 }, classInput: null,
    output: { name: 'img', layout: 'NCHW', resolution: 16, channels: 3 }, range, constants: {}, inferred: [], preview: { dataUrl: `data:${range}`, count: 8, resolution: 16 },
  });
  first.answer(info('[-1,1]'));
  await settle();
  assert.equal(merge.onnx?.info?.range, '[-1,1]');

  // A correction the file refuses: the reason, the last good reading kept, nothing to confirm.
  void merge.checkOnnx('/root/gen.onnx', { latentSize: 7 });
  backend.take('merge.probeSource').fail({ code: 'invalid-request', message: '/root/gen.onnx cannot be used as a merge source: its latent input "z" takes 16 values, not the 7 given.' });
  await settle();
  assert.match(merge.onnx?.error ?? '', /gen\.onnx cannot be used/);
  assert.equal(merge.onnx?.info?.range, '[-1,1]');
  merge.confirmOnnx();
  assert.equal(merge.files.length, 1, 'a refused reading cannot be confirmed');

  // Two corrections in a row: the older answer, arriving last, is dropped.
  void merge.checkOnnx('/root/gen.onnx', { range: '[0,1]' });
  void merge.checkOnnx('/root/gen.onnx', { range: '[0,255]' });
  const older = backend.take('merge.probeSource');
  const newer = backend.take('merge.probeSource');
  assert.deepEqual(newer.params, { path: '/root/gen.onnx', options: { range: '[0,255]' } });
  newer.answer(info('[0,255]'));
  await settle();
  older.answer(info('[0,1]'));
  await settle();
  assert.equal(merge.onnx?.info?.range, '[0,255]');

  // Confirmed: offered, read with the corrections.
  merge.confirmOnnx();
  assert.equal(merge.onnx, null);
  assert.deepEqual(merge.files.at(-1), { key: 'file:/root/gen.onnx', label: 'gen', detail: 'ONNX file /root/gen.onnx · 16×16', source: { kind: 'onnx', path: '/root/gen.onnx', options: { range: '[0,255]' } } });
});
