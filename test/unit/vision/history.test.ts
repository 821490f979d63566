/**
 * A run's selection history read back for the studio (RunDetail.vision) from its newest
 * checkpoint's state in the project file, without TensorFlow.js: each judge's state as
 * VisionJudge.state() writes it, under its name in the loop's extras.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { VisionSelection } from '../../../core/api/vision.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { selectionsFromExtras } from '../../../core/vision/history.js';
import type { JudgeState } from '../../../core/vision/judge.js';
import { tempDir } from '../../helpers/tmp.js';

const ada = { p: 0.1, accumulated: [0, 0] } as unknown as JudgeState['ada'];

test("the newest checkpoint's judges give the selections in order; none before the first", (t) => {
  const project = Project.create(join(tempDir(t), 'history.atelier'), 'history', { appVersion: 'test' });
  t.after(() => project.close());
  const runs = new RunStore(project.db);
  const run = runs.createRun('v', 'vision-aided', {}, 1);
  assert.equal(runs.latestCheckpointState(run.id), undefined);

  const first: VisionSelection = { index: 0, kimg: 0.1, picked: 'mobilenetv2', accuracies: { mobilenetv2: 0.96, inception: 0.9 }, images: 64 };
  const second: VisionSelection = { index: 1, kimg: 0.25, picked: 'inception', accuracies: { inception: 0.81 }, images: 64 };
  const judge = (selection: VisionSelection | null): JudgeState => ({ addedAtKimg: selection?.kimg ?? null, selection, ada });
  const state = (extras: Record<string, JudgeState>) => ({ format: 1, loop: { step: 1, extras }, config: {}, classNames: [], backend: 'wasm' });

  runs.saveCheckpoint(run.id, { kimg: 0.05, step: 5, weights: Buffer.alloc(4), state: state({ 'vision.mobilenetv2': judge(null), 'vision.inception': judge(null) }) });
  assert.deepEqual(selectionsFromExtras((runs.latestCheckpointState(run.id) as { loop: { extras: unknown } }).loop.extras), []);

  // Stored in candidate order; read back in selection order.
  runs.saveCheckpoint(run.id, { kimg: 0.3, step: 30, weights: Buffer.alloc(4), state: state({ 'vision.inception': judge(second), 'vision.mobilenetv2': judge(first), 'vision.mobilenetv2-1.0': judge(null) }) });
  assert.deepEqual(selectionsFromExtras((runs.latestCheckpointState(run.id) as { loop: { extras: unknown } }).loop.extras), [first, second]);
  assert.deepEqual(selectionsFromExtras(undefined), [], 'a checkpoint of a run without judges');
  assert.deepEqual(selectionsFromExtras({ other: { selection: first } }), [], 'only the judges’ entries count');
});
