/**
 * The merge slice of StudioApi through the dispatcher, as the renderer calls it (browser mode,
 * whose path policy is its root): a source path outside the root and a malformed ONNX file are
 * refused with the reason and nothing is written; two models merge in a worker, pause between
 * steps with their stage and step saved, resume there, and end as a model with a class each,
 * listed in Models, with a preview strip per class in the merge's detail.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createDispatcher } from '../../../core/api/dispatch.js';
import type { MergeDetail, MergeProgressInfo, MergeSummary, ModelSummary, StudioEvent } from '../../../core/api/contract.js';
import { selectBackend } from '../../../core/backend/select.js';
import { RootedPaths } from '../../../core/service/paths.js';
import { StudioService } from '../../../core/service/studio-service.js';
import { Project } from '../../../core/store/project.js';
import { storeModel, tinyMergeConfig, trainTiny } from '../../helpers/merge.js';
import { tempDir } from '../../helpers/tmp.js';

test('merge.start refuses a bad source with nothing written; a merge pauses, resumes at its step and ends as a model with classes', async (t) => {
  await selectBackend({ prefer: 'wasm' });
  const root = tempDir(t);
  const path = join(root, 'p.atelier');
  const p = Project.create(path, 'p', { appVersion: 'test' });
  const a = storeModel(p, 'Light', await trainTiny(new Uint8Array(8 * 16 * 16 * 3).fill(220), tinyMergeConfig(31), 0));
  const b = storeModel(p, 'Dark', await trainTiny(new Uint8Array(8 * 16 * 16 * 3).fill(30), tinyMergeConfig(32), 0));
  p.close();

  const service = new StudioService({ mode: 'browser', appHome: tempDir(t), paths: new RootedPaths(root) });
  t.after(() => service.dispose());
  const call = createDispatcher(service.handlers(), { log: () => undefined });
  const ctx = { transport: 'ws' as const };
  const events: StudioEvent[] = [];
  service.subscribe((e: StudioEvent) => void events.push(e));
  assert.ok((await call('project.open', { path }, ctx)).ok);
  const tiny = { kimgRoot: 0.064, kimgMerge: 0.064, batch: 8, seed: 2, backend: 'wasm', tickKimg: 0.016, snapshotTicks: 1, evalImages: 0 } as const;
  const models = { kind: 'model' as const, modelId: a.modelId };

  // Refused: a path outside the server's root; a file that is not ONNX; too few sources (the schema).
  const outside = await call('merge.start', { ...tiny, sources: [models, { kind: 'onnx', path: join(tempDir(t), 'g.onnx') }] }, ctx);
  assert.equal(!outside.ok && outside.error.code, 'forbidden');
  const onnx = join(root, 'broken.onnx');
  writeFileSync(onnx, 'not a model');
  const broken = await call('merge.start', { ...tiny, sources: [models, { kind: 'onnx', path: onnx }] }, ctx);
  assert.ok(!broken.ok);
  assert.match(broken.error.message, /broken\.onnx/);
  const one = await call('merge.start', { ...tiny, sources: [models] }, ctx);
  assert.match(!one.ok ? one.error.message : '', /two or more generators/);
  const listed = await call('merge.list', {}, ctx);
  assert.deepEqual(listed.ok && listed.value, [], 'nothing written');

  // A merge of the two models, paused in the joint stage.
  const started = await call('merge.start', { ...tiny, sources: [models, { kind: 'model', modelId: b.modelId }], classes: ['light', 'dark'] }, ctx);
  assert.ok(started.ok, JSON.stringify(started));
  const merge = started.value as MergeSummary;
  assert.deepEqual([merge.status, merge.classes, merge.stages.map((s) => s.kind)], ['running', ['light', 'dark'], ['root', 'average', 'joint']]);
  const changed = (status: string): Promise<MergeSummary> =>
    new Promise((resolve) => service.subscribe((e: StudioEvent) => e.type === 'merge.changed' && e.merge.status === status && resolve(e.merge)));
  const paused = changed('paused');
  let asked = false;
  await new Promise<void>((resolve) => {
    service.subscribe((e: StudioEvent) => {
      const pr = e.type === 'merge.progress' ? (e.progress as MergeProgressInfo) : null;
      if (asked || !(pr?.kind === 'joint' && pr.previews && pr.step > 0)) return;
      asked = true;
      void call('merge.pause', { mergeId: merge.id }, ctx).then(() => resolve());
    });
  });
  const atPause = await paused;
  assert.equal(atPause.stage, 2, 'paused in the joint fine-tune');
  assert.ok(atPause.step > 0 && atPause.step < 8, `between steps: ${atPause.step}`);
  assert.equal(atPause.stages[0]!.done?.steps, 8, 'rooting done');

  // Resumed: it continues from the step it paused at, and ends as a model.
  const done = changed('done');
  const resumed = await call('merge.resume', { mergeId: merge.id }, ctx);
  assert.ok(resumed.ok, JSON.stringify(resumed));
  const firstAfter = await new Promise<MergeProgressInfo>((resolve) => service.subscribe((e: StudioEvent) => e.type === 'merge.progress' && e.progress.phase === 'training' && resolve(e.progress)));
  assert.deepEqual([firstAfter.stage, firstAfter.step], [atPause.stage, atPause.step], 'the same stage and step');
  const end = await done;
  assert.equal(end.stages[2]!.done?.steps, 8, 'the joint stage ran its 8 steps over both sessions');
  const detail = (await call('merge.get', { mergeId: merge.id }, ctx)) as { ok: true; value: MergeDetail };
  assert.deepEqual(detail.value.previews.map((pv) => [pv.classIndex, pv.className]), [[0, 'light'], [1, 'dark']]);
  assert.ok(detail.value.previews.every((pv) => pv.dataUrl.startsWith('data:image/png;base64,')));
  const list = (await call('models.list', {}, ctx)) as { ok: true; value: ModelSummary[] };
  const model = list.value.find((m) => m.id === end.modelId)!;
  assert.deepEqual([model.name, model.classNames, model.mergedFrom], ['light + dark', ['light', 'dark'], ['Light', 'Dark']]);
  assert.ok(events.some((e) => e.type === 'models.changed'), 'Models hears of it');
});
