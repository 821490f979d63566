/** The run lock: a live holder refuses naming its process; a killed holder's row is taken over; a worker that never started holds nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { claimRun, runHolder } from '../../../core/jobs/run-lock.js';
import { setWorkerSpawner } from '../../../core/jobs/spawn.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { tempDir } from '../../helpers/tmp.js';

test('the lock: a live holder refuses with its pid; a killed holder is taken over', async (t) => {
  const dir = tempDir(t);
  const project = Project.create(join(dir, 'l.atelier'), 'l', { appVersion: 'test' });
  t.after(() => project.close());
  const runs = new RunStore(project.db);
  const runId = runs.createRun('r', 'baseline', {}, 1).id;

  const first = claimRun(project.db, { runId, params: { runId } });
  assert.deepEqual(runHolder(project.db, runId), { jobId: first, pid: process.pid });
  assert.throws(() => claimRun(project.db, { runId, params: {} }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'exists');
    assert.equal(err.message.split(' (')[0], `Run ${runId} is already being trained by process ${process.pid}`);
    return true;
  });

  // The holder is killed: its row stays 'queued' with a pid that is gone.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  project.db.prepare('UPDATE jobs SET status = ?, pid = ? WHERE id = ?').run('running', dead, first);
  assert.equal(runHolder(project.db, runId), null);
  const second = claimRun(project.db, { runId, params: {} });
  const rows = project.db.prepare('SELECT id, status, pid FROM jobs ORDER BY id').all();
  assert.deepEqual(rows, [
    { id: first, status: 'failed', pid: dead },
    { id: second, status: 'queued', pid: process.pid },
  ]);
});

test('a worker that cannot be spawned leaves no lock behind: its row is failed, the run free', async (t) => {
  const dir = tempDir(t);
  const project = Project.create(join(dir, 's.atelier'), 's', { appVersion: 'test' });
  t.after(() => project.close());
  const runId = new RunStore(project.db).createRun('r', 'baseline', {}, 1).id;
  const manager = new JobManager(project);
  setWorkerSpawner({
    name: 'broken',
    spawn: () => {
      throw new Error('spawn EAGAIN');
    },
  });
  t.after(() => setWorkerSpawner(null));
  const entry = new URL('../../fixtures/workers/counting-worker.ts', import.meta.url);
  assert.throws(() => manager.start({ kind: 'train', entry, params: { runId }, runId, exclusive: true }), /spawn EAGAIN/);
  assert.deepEqual(project.db.prepare('SELECT status, error FROM jobs').all(), [{ status: 'failed', error: 'The train worker could not start: spawn EAGAIN.' }]);
  assert.equal(runHolder(project.db, runId), null);
  assert.doesNotThrow(() => claimRun(project.db, { runId, params: {} }));
});
