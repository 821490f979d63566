import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UserError } from '../../../core/api/errors.js';
import { SAMPLING_WORKER, describeDeath, jobWorker } from '../../../core/jobs/death.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import type { JobInfo } from '../../../core/jobs/protocol.js';
import type { CountingJob } from '../../fixtures/workers/counting-worker.js';
import { Training } from '../../../core/service/training.js';
import { DatasetStore } from '../../../core/store/dataset.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { tempDir } from '../../helpers/tmp.js';
import { until } from '../../helpers/poll.js';

const ENTRY = new URL('../../fixtures/workers/counting-worker.ts', import.meta.url);

function setup(t: TestContext) {
  const project = Project.create(join(tempDir(t), 'jobs.atelier'), 'jobs', { appVersion: 'test' });
  const changes: JobInfo[] = [];
  const progress: unknown[] = [];
  const manager = new JobManager<{ train: CountingJob; import: CountingJob }>(project, { changed: (j) => changes.push(j), progress: (_j, p) => progress.push(p) });
  t.after(async () => {
    await manager.shutdown(2000);
    project.close();
  });
  const steps = () => project.db.prepare("SELECT count(*) FROM labels WHERE name LIKE 'step-%'").pluck().get() as number;
  return { project, manager, changes, progress, steps };
}


test('a job runs in its own process, reports progress and finishes', async (t) => {
  const { manager, changes, progress, steps } = setup(t);
  const { job, done } = manager.start({ kind: 'import', entry: ENTRY, params: { steps: 5, stepMs: 5 } });
  assert.equal(job.status, 'running');
  assert.ok(job.pid && job.pid !== process.pid, 'a separate process');
  const final = await done;
  assert.equal(final.status, 'done');
  assert.equal(steps(), 5);
  assert.deepEqual(progress.at(-1), { step: 5, of: 5 });
  assert.deepEqual(changes.map((c) => c.status), ['running', 'done']);
  assert.equal(final.pid, null);
});

test('pause saves and exits; a new job resumes where it left off', async (t) => {
  const { manager, progress, steps } = setup(t);
  const first = manager.start({ kind: 'train', entry: ENTRY, params: { steps: 400, stepMs: 10 } });
  await until(() => progress.length >= 3);
  manager.control(first.job.id, 'pause');
  const paused = await first.done;
  assert.equal(paused.status, 'paused');
  const savedAtPause = steps();
  assert.ok(savedAtPause >= 3 && savedAtPause < 400, `saved ${savedAtPause}`);
  const second = manager.start({ kind: 'train', entry: ENTRY, params: { steps: savedAtPause + 3, stepMs: 1 } });
  assert.equal((await second.done).status, 'done');
  assert.equal(steps(), savedAtPause + 3, 'continued from the saved step, none repeated');
});

test('stop ends the job as cancelled', async (t) => {
  const { manager, progress } = setup(t);
  const { job, done } = manager.start({ kind: 'train', entry: ENTRY, params: { steps: 400, stepMs: 10 } });
  await until(() => progress.length >= 1);
  manager.control(job.id, 'stop');
  assert.equal((await done).status, 'cancelled');
  assert.throws(() => manager.control(job.id, 'pause'), /is not running/);
});

test('a worker killed with SIGKILL is noticed; what it committed stays', async (t) => {
  const { manager, progress, steps } = setup(t);
  const { job, done } = manager.start({ kind: 'train', entry: ENTRY, params: { steps: 400, stepMs: 10 } });
  await until(() => progress.length >= 3);
  process.kill(job.pid!, 'SIGKILL');
  const dead = await done;
  assert.equal(dead.status, 'failed');
  assert.match(dead.error ?? '', /was killed \(SIGKILL\).*Everything saved before is kept/);
  assert.ok(steps() >= 3, 'committed steps survive the kill');
});

test('a worker that fails with a reason reports it', async (t) => {
  const { manager } = setup(t);
  const { done } = manager.start({ kind: 'import', entry: ENTRY, params: { steps: 10, stepMs: 1, failAt: 2 } });
  const failed = await done;
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error, 'Step 2 cannot run: the test asked it to fail.');
});

test('jobs left "running" by a studio that died are marked interrupted on the next open', async (t) => {
  const path = join(tempDir(t), 'crash.atelier');
  const project = Project.create(path, 'crash', { appVersion: 'test' });
  project.db.prepare("INSERT INTO jobs (kind, status, pid, params, created_at, updated_at) VALUES ('train', 'running', 999999, '{}', 'x', 'x')").run();
  const manager = new JobManager(project, { changed: () => undefined, progress: () => undefined });
  const [job] = manager.recent();
  assert.equal(job!.status, 'failed');
  assert.match(job!.error ?? '', /studio closed while this train job was running.*resume the run/);
  project.close();
});

test('on open, a job whose worker is alive (another process training) is left alone; one whose worker is gone is marked interrupted', (t) => {
  const project = Project.create(join(tempDir(t), 'shared.atelier'), 'shared', { appVersion: 'test' });
  t.after(() => project.close());
  const runs = new RunStore(project.db);
  const live = runs.createRun('trained elsewhere', 'baseline', {}, 1).id;
  const dead = runs.createRun('left behind', 'baseline', {}, 1).id;
  for (const id of [live, dead]) runs.setStatus(id, 'running');
  const gone = spawnSync(process.execPath, ['-e', '']).pid!; // exited and reaped
  const job = (runId: number, pid: number | null, status = 'running'): number =>
    Number(project.db.prepare("INSERT INTO jobs (kind, status, run_id, pid, params, created_at, updated_at) VALUES ('train', ?, ?, ?, '{}', 'x', 'x')").run(status, runId, pid).lastInsertRowid);
  const liveJob = job(live, process.pid);
  const deadJob = job(dead, gone);
  const queued = job(dead, null, 'queued');
  const status = (id: number) => project.db.prepare('SELECT status FROM jobs WHERE id = ?').pluck().get(id);

  // The JobManager alone…
  const manager = new JobManager(project, { changed: () => undefined, progress: () => undefined });
  assert.equal(status(liveJob), 'running', 'a live worker’s job stays running');
  assert.equal(status(deadJob), 'failed');
  assert.equal(status(queued), 'failed');
  assert.match(manager.get(deadJob)!.error ?? '', /studio closed while this train job was running/);

  // …and the service as `atelier train` or the studio opening the project makes it.
  project.db.prepare("UPDATE jobs SET status = 'running', error = NULL WHERE id = ?").run(deadJob);
  const training = new Training(new JobManager(project), () => new DatasetStore(project.db), () => {});
  assert.equal(runs.getRun(live)!.status, 'running', 'the run another process trains is not paused');
  assert.equal(status(liveJob), 'running');
  assert.equal(runs.getRun(dead)!.status, 'paused');
  assert.match(runs.getRun(dead)!.error ?? '', /closed while this run was training/);
  assert.equal(status(deadJob), 'failed');
  // It is not started a second time here, nor deleted under its worker.
  assert.throws(() => training.resume(live), (err: unknown) => err instanceof UserError && err.code === 'exists' && new RegExp(`Run ${live} is already being trained by process ${process.pid}`).test(err.message));
  assert.throws(() => training.delete(live), /is training: pause or stop it/);
});

test('out-of-memory deaths are named as such', () => {
  assert.match(describeDeath(jobWorker('train'), 134, null, 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'), /ran out of memory.*smaller batch/);
  assert.match(describeDeath(jobWorker('import'), 3, null, 'Error: something\n'), /exited unexpectedly \(code 3\): Error: something/);
});

test('the sampling worker\'s death is told the same way, with what to do for a request (try again, not resume)', () => {
  assert.equal(describeDeath(SAMPLING_WORKER, 134, null, 'JavaScript heap out of memory'), 'The sampling worker ran out of memory. Nothing stored was lost; try a smaller export, or fewer images at once.');
  assert.equal(describeDeath(SAMPLING_WORKER, null, 'SIGKILL', ''), 'The sampling worker was killed (SIGKILL) — often the system running out of memory. Nothing stored was lost; try again.');
  assert.equal(describeDeath(SAMPLING_WORKER, 1, null, 'Error: boom\n'), 'The sampling worker exited unexpectedly (code 1): Error: boom. Nothing stored was lost; try again.');
});

test('workers inherit loaders but never the parent\'s own script or test flags', async () => {
  const { workerExecArgv } = await import('../../../core/jobs/fork-worker.js');
  assert.deepEqual(workerExecArgv(['--import', 'tsx', '-e', 'fork()', '--max-old-space-size=4096']), ['--import', 'tsx', '--max-old-space-size=4096']);
  assert.deepEqual(workerExecArgv(['--test', '--test-name-pattern', 'resume', '--inspect=9229', '--require', 'x.cjs']), ['--require', 'x.cjs']);
  assert.deepEqual(workerExecArgv(['-p', '1+1', '--eval=2']), []);
});

test('a worker entry resolves to its source in development and to the bundle beside main.js in a packaged app', async (t) => {
  const { resolveEntry } = await import('../../../core/jobs/fork-worker.js');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const root = tempDir(t);
  const src = join(root, 'core', 'session', 'train-worker.ts');
  const bundle = join(root, 'out', 'electron');
  mkdirSync(bundle, { recursive: true });
  writeFileSync(join(bundle, 'train-worker.js'), '');
  // Packaged: no sources; main.js's `new URL('../session/train-worker.ts', …)` points nowhere, the bundle is beside main.js.
  assert.equal(resolveEntry(join(root, 'out', 'session', 'train-worker.ts'), bundle), join(bundle, 'train-worker.js'));
  // Development: the TypeScript source wins over a stray bundle.
  mkdirSync(join(root, 'core', 'session'), { recursive: true });
  writeFileSync(src, '');
  assert.equal(resolveEntry(src, bundle), src);
  // A prebuilt .js beside the source is preferred.
  writeFileSync(src.replace(/\.ts$/, '.js'), '');
  assert.equal(resolveEntry(src, bundle), src.replace(/\.ts$/, '.js'));
  // Neither: the source path (tsx reports the missing file).
  assert.equal(resolveEntry(join(root, 'nowhere', 'x-worker.ts'), join(root, 'empty')), join(root, 'nowhere', 'x-worker.ts'));
});
