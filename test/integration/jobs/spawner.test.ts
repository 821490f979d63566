/**
 * The spawner seam and the worker channel (core/jobs/spawn.ts, channel.ts): jobs start through
 * whatever spawner is installed; a worker talks through Node's IPC when forked and through
 * `process.parentPort` when it runs as an Electron utility process. Electron cannot run here, so
 * the utility-process path runs on real forked processes that look like utility processes to
 * the worker (test/fixtures/workers/parent-port-shim.mjs) and like a UtilityProcess to the spawner.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { CLOSE_MESSAGE, parentChannel, type ParentPortLike, type ProcessLike } from '../../../core/jobs/channel.js';
import { forkEntry } from '../../../core/jobs/fork-worker.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import type { FromWorker, ToWorker } from '../../../core/jobs/protocol.js';
import { forkSpawner, setWorkerSpawner, spawnWorker, utilitySpawner, workerSpawner, type UtilityFork, type WorkerSpawner } from '../../../core/jobs/spawn.js';
import { Project } from '../../../core/store/project.js';
import { tempDir } from '../../helpers/tmp.js';
import type { CountingJob } from '../../fixtures/workers/counting-worker.js';

const ENTRY = new URL('../../fixtures/workers/counting-worker.ts', import.meta.url);
const SHIM = new URL('../../fixtures/workers/parent-port-shim.mjs', import.meta.url).href;

/** `utilityProcess.fork` played by child_process.fork and the shim: a UtilityProcess outside, a parentPort inside. */
const fakeUtilityFork: UtilityFork = (path, args, options) => {
  const child = forkEntry(path, [...options.execArgv, '--import', SHIM], { args, env: options.env, stderr: options.stdio[2] === 'pipe' ? 'pipe' : 'inherit' });
  const emitter = new EventEmitter();
  child.on('message', (m) => emitter.emit('message', m));
  // A utility process reports an exit code only.
  child.on('exit', (code, signal) => emitter.emit('exit', code ?? (signal === 'SIGKILL' ? 137 : 1)));
  return Object.assign(emitter, {
    pid: child.pid,
    stderr: child.stderr,
    postMessage: (m: unknown) => void child.send(m as object),
    kill: () => child.kill('SIGTERM'),
  });
};

function counting(spawner: WorkerSpawner, t: TestContext): WorkerSpawner[] {
  const used: WorkerSpawner[] = [];
  setWorkerSpawner({ name: spawner.name, spawn: (...a) => (used.push(spawner), spawner.spawn(...a)) });
  t.after(() => setWorkerSpawner(null));
  return used;
}

function project(t: TestContext): Project {
  const p = Project.create(join(tempDir(t), 'spawn.atelier'), 'spawn', { appVersion: 'test' });
  t.after(() => p.close());
  return p;
}

async function until(pred: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a worker channel over a parentPort: messages in as e.data, out by postMessage, the close message as a disconnect', () => {
  const port = Object.assign(new EventEmitter(), { sent: [] as unknown[], postMessage(m: unknown) { this.sent.push(m); } });
  const proc: ProcessLike = { parentPort: port as unknown as ParentPortLike, send: () => true, on: () => undefined };
  const channel = parentChannel<{ n: number }, string>(proc)!;
  assert.equal(channel.transport, 'parent-port', 'the parentPort wins over process.send');
  const got: number[] = [];
  let gone = 0;
  port.emit('message', { data: { n: 1 } }); // before the worker listens: held for it
  channel.onMessage((m) => got.push(m.n));
  channel.onDisconnect(() => gone++);
  port.emit('message', { data: { n: 2 } });
  channel.send('hello');
  assert.deepEqual(got, [1, 2]);
  assert.deepEqual(port.sent, ['hello']);
  assert.equal(channel.connected, true);
  port.emit('message', { data: CLOSE_MESSAGE });
  assert.equal(gone, 1, 'the close message is the service going away');
  assert.deepEqual(got, [1, 2], 'and not a message for the worker');
  assert.equal(channel.connected, false);
  channel.send('too late');
  assert.deepEqual(port.sent, ['hello'], 'nothing is posted after the close');
  assert.equal(parentChannel({ on: () => undefined }), null, 'a process started by hand has no channel');
});

test('jobs start through the installed spawner; child_process.fork is the default', async (t) => {
  assert.equal(workerSpawner().name, 'child_process.fork');
  const used = counting(forkSpawner, t);
  const manager = new JobManager<{ train: CountingJob }>(project(t));
  const { done } = manager.start({ kind: 'train', entry: ENTRY, params: { steps: 3, stepMs: 1 } });
  assert.equal((await done).status, 'done');
  assert.equal(used.length, 1);
  setWorkerSpawner(null);
  assert.equal(workerSpawner(), forkSpawner);
});

test('as utility processes: a job runs, reports typed progress, pauses and resumes; a worker killed past its stop grace is noticed', async (t) => {
  const used = counting(utilitySpawner(fakeUtilityFork), t);
  const p = project(t);
  const steps = () => p.db.prepare("SELECT count(*) FROM labels WHERE name LIKE 'step-%'").pluck().get() as number;
  const manager = new JobManager<{ train: CountingJob }>(p);
  t.after(() => manager.shutdown(2000));

  // Runs to the end over parentPort, with its progress and result.
  const seen: Array<{ step: number; of: number }> = [];
  const first = manager.start({ kind: 'train', entry: ENTRY, params: { steps: 4, stepMs: 1 }, onProgress: (pr) => seen.push(pr) });
  const ended = await first.done;
  assert.equal(ended.status, 'done');
  assert.deepEqual(ended.result, { step: 4 });
  assert.deepEqual(seen.at(-1), { step: 4, of: 4 });
  assert.equal(steps(), 4);

  // Pause: saves and exits; a new job goes on from there.
  const second = manager.start({ kind: 'train', entry: ENTRY, params: { steps: 400, stepMs: 10 } });
  await until(() => steps() >= 6);
  manager.control(second.job.id, 'pause');
  assert.equal((await second.done).status, 'paused');
  const atPause = steps();
  assert.ok(atPause < 400);
  assert.equal((await manager.start({ kind: 'train', entry: ENTRY, params: { steps: atPause + 2, stepMs: 1 } }).done).status, 'done');
  assert.equal(steps(), atPause + 2);

  // A worker that does not stop in time is killed after its grace; the exit code is all a utility process tells.
  const stubborn = manager.start({ kind: 'train', entry: ENTRY, params: { steps: 100_000, stepMs: 5, ignoreRequests: true }, stopGraceMs: 300 });
  await until(() => steps() >= atPause + 4);
  const t0 = Date.now();
  manager.control(stubborn.job.id, 'stop');
  const killed = await stubborn.done;
  assert.equal(killed.status, 'failed');
  assert.ok(Date.now() - t0 >= 250, 'not before the grace');
  assert.deepEqual(killed.exit, { code: 137, signal: null });
  assert.match(killed.error ?? '', /The train worker exited unexpectedly \(code 137\).*Everything saved before is kept/);
  assert.ok(used.length >= 4 && used.every((s) => s.name === 'utilityProcess'));
});

test('as a utility process, a worker whose service goes away (the close message) saves and exits cleanly', async (t) => {
  counting(utilitySpawner(fakeUtilityFork), t);
  const p = project(t);
  const steps = () => p.db.prepare("SELECT count(*) FROM labels WHERE name LIKE 'step-%'").pluck().get() as number;
  const worker = spawnWorker(ENTRY, { stderr: 'pipe' });
  const exited = new Promise<number | null>((r) => worker.onExit((code) => r(code)));
  let progressed = 0;
  worker.onMessage((m) => {
    if ((m as FromWorker).type === 'progress') progressed++;
  });
  const start: ToWorker = { type: 'start', jobId: 0, projectPath: p.path, params: { steps: 400, stepMs: 10 } };
  worker.send(start);
  await until(() => progressed >= 3);
  worker.disconnect();
  assert.equal(worker.connected, false);
  assert.equal(await exited, 0, 'it left on its own, not killed');
  const saved = steps();
  assert.ok(saved >= 3 && saved < 400, `stopped at ${saved}`);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(steps(), saved, 'nothing after it left');
});
