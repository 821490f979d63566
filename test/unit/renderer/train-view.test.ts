/**
 * What the Train view offers (renderer/src/lib): resuming from a checkpoint only where the service
 * accepts it (a finished run's newest checkpoint is refused; its older ones branch), and the
 * compare view's word when two runs' evaluations do not compare value for value.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../../core/api/errors.js';
import { Training } from '../../../core/service/training.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { DatasetStore } from '../../../core/store/dataset.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { evaluatedAlikeNote } from '../../../renderer/src/lib/metrics.js';
import { newestCheckpointId, resumeKind } from '../../../renderer/src/lib/resume.js';
import { tempDir } from '../../helpers/tmp.js';

test('resume is offered where the service accepts it: not on a finished run’s newest checkpoint', async (t) => {
  const checkpoints = [
    { id: 4, kimg: 0.5 },
    { id: 9, kimg: 1 },
    { id: 7, kimg: 0.75 },
  ];
  assert.equal(newestCheckpointId(checkpoints), 9);
  assert.equal(newestCheckpointId([]), null);
  assert.equal(resumeKind(9, 9, false), 'continue', 'a paused run continues from its newest');
  assert.equal(resumeKind(4, 9, false), 'branch');
  assert.equal(resumeKind(9, 9, true), null, 'a finished run: nothing to resume there');
  assert.equal(resumeKind(4, 9, true), 'branch', 'its older checkpoints still branch');

  // The service side of the same rule.
  const project = Project.create(join(tempDir(t), 'r.atelier'), 'r', { appVersion: 'test' });
  const training = new Training(new JobManager(project), () => new DatasetStore(project.db), () => {});
  t.after(async () => {
    await training.dispose();
    project.close();
  });
  const runs = new RunStore(project.db);
  const run = runs.createRun('finished', 'baseline', { seed: 1 }, 1).id;
  for (const k of [0.5, 1]) runs.saveCheckpoint(run, { kimg: k, step: k * 100, weights: Buffer.alloc(4), state: {} });
  runs.setStatus(run, 'done');
  const newest = newestCheckpointId(runs.listCheckpoints(run))!;
  assert.equal(resumeKind(newest, newest, true), null);
  assert.throws(
    () => training.resume(run, undefined, newest),
    (err: unknown) => err instanceof UserError && /has finished its 1 kimg\. Continue training it \(it goes on from its last checkpoint for more kimg\), or start a new run from its weights/.test(err.message),
  );
});

test('the compare view says when two runs’ evaluations do not compare value for value', () => {
  assert.equal(evaluatedAlikeNote({ sizes: true, extractor: true }), null);
  assert.equal(evaluatedAlikeNote({ sizes: false, extractor: true }), 'These runs were evaluated on different numbers of images; compare the shapes of the curves, not the values.');
  assert.equal(evaluatedAlikeNote({ sizes: true, extractor: false }), 'These runs were evaluated with different feature extractors; compare the shapes of the curves, not the values.');
  assert.match(evaluatedAlikeNote({ sizes: false, extractor: false })!, /^These runs were evaluated on different numbers of images, with different feature extractors; compare the shapes/);
});
