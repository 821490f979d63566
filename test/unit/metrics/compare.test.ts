/**
 * Comparing two runs says whether their evaluations compare value for value: the same numbers of
 * dataset and generated images, through the same extractor, in every training evaluation of both
 * (on-demand evaluations are not on the curves and do not count).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Training } from '../../../core/service/training.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { DatasetStore } from '../../../core/store/dataset.js';
import { MetricsStore } from '../../../core/store/metrics.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { tempDir } from '../../helpers/tmp.js';

test('the comparison says when the two runs were evaluated on different numbers of images or through another extractor', async (t) => {
  const project = Project.create(join(tempDir(t), 'c.atelier'), 'c', { appVersion: 'test' });
  const training = new Training(new JobManager(project), () => new DatasetStore(project.db), () => {});
  t.after(async () => {
    await training.dispose();
    project.close();
  });
  const runs = new RunStore(project.db);
  const store = new MetricsStore(project.db);
  const [a, b] = [1, 2].map((seed) => runs.createRun(`seed ${seed}`, 'baseline', { seed }, 1).id) as [number, number];
  const evaluate = (runId: number, kimg: number, o: { reals?: number; fakes?: number; extractor?: string; source?: 'training' | 'on-demand' } = {}): void => {
    store.addEvaluation({ runId, checkpointId: null, kimg, source: o.source ?? 'training', extractor: o.extractor ?? 'bundled', reference: false, realCount: o.reals ?? 48, fakeCount: o.fakes ?? 16, metrics: { 'Metrics/kid': 0.1 }, seconds: 1 });
  };

  assert.deepEqual(training.compare([a, b]).evaluatedAlike, { sizes: true, extractor: true }, 'nothing evaluated yet');
  evaluate(a, 0.5);
  evaluate(b, 0.5);
  evaluate(b, 1, { reals: 200, fakes: 64, source: 'on-demand' });
  assert.deepEqual(training.compare([a, b]).evaluatedAlike, { sizes: true, extractor: true }, 'an on-demand evaluation is not on the curve');
  evaluate(b, 1, { fakes: 8 });
  assert.deepEqual(training.compare([a, b]).evaluatedAlike, { sizes: false, extractor: true });
  evaluate(a, 1, { fakes: 8, extractor: 'fid-inception' });
  assert.deepEqual(training.compare([a, b]).evaluatedAlike, { sizes: false, extractor: false });
});
