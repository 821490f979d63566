/**
 * The whole path, as the studio runs it: 64 real emoji imported by the real importer at 16², runs
 * started by the service's Training in worker processes. Two runs with the same seed: one left
 * alone, one killed with SIGKILL after a checkpoint and resumed. The resumed one continues from
 * its checkpoint's step (not 0), its kimg keeps increasing, it finishes, and it ends bit-for-bit
 * where the uninterrupted run ended, with the same preview grids along the way. A worker whose
 * parent goes away saves a checkpoint and exits cleanly.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunSummary, StudioEvent, TrainProgress, TrainSettings } from '../../../core/api/contract.js';
import { forkWorker } from '../../../core/jobs/fork-worker.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import type { FromWorker, ToWorker } from '../../../core/jobs/protocol.js';
import { TRAIN_WORKER, Training } from '../../../core/service/training.js';
import { DatasetStore } from '../../../core/store/dataset.js';
import { Project } from '../../../core/store/project.js';
import { runImport } from '../../helpers/data.js';
import { EMOJI_DIR } from '../../unit/train/helpers.js';
import { until } from '../../helpers/poll.js';

const settings: TrainSettings = {
  preset: 'baseline',
  kimg: 0.16, // 20 steps of 8
  batch: 8,
  seed: 3,
  backend: 'wasm',
  advanced: { channelBase: 256, channelMax: 16, tickKimg: 0.032, snapshotTicks: 1 }, // a tick and a checkpoint every 4 steps
};


describe('train worker', () => {
  let dir: string;
  let project: Project;
  let training: Training;
  const progress = new Map<number, TrainProgress[]>();
  const changes: RunSummary[] = [];
  const status = (runId: number) => training.runs.getRun(runId)?.status;

  before(async () => {
    // 64 real emoji through the importer.
    dir = mkdtempSync(join(tmpdir(), 'atelier-worker-'));
    const src = join(dir, 'emoji');
    mkdirSync(src);
    for (const f of readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, 64)) copyFileSync(join(EMOJI_DIR, f), join(src, f));
    project = Project.create(join(dir, 'emoji.atelier'), 'emoji', { appVersion: 'test' });
    const store = new DatasetStore(project.db);
    const imported = await runImport({ dir, path: project.path, project, store }, [src], { resolution: 16 });
    assert.equal(imported.imported, 64);
    training = new Training(new JobManager(project), () => store, (e: StudioEvent) => {
      if (e.type === 'run.progress') progress.set(e.progress.runId, [...(progress.get(e.progress.runId) ?? []), e.progress]);
      if (e.type === 'run.changed') changes.push(e.run);
    });
  });

  after(async () => {
    await training.dispose();
    project.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 after a checkpoint, resume: continues from its step and ends exactly where an uninterrupted run ends', async () => {
    // Run A, left alone, and run B with the same seed, side by side (one wasm thread each); B is
    // killed after its first checkpoint, once it has trained past it.
    const a = await training.start({ ...settings, name: 'alone' });
    const b = await training.start({ ...settings, name: 'killed' });
    await until(() => training.runs.listCheckpoints(b.id).length > 0, 'a checkpoint of run B', 60_000);
    const checkpointStep = training.runs.listCheckpoints(b.id).at(-1)!.step;
    await until(() => (progress.get(b.id) ?? []).some((q) => q.step > checkpointStep), 'run B to train past its checkpoint', 60_000);
    const job = training.jobs.recent().find((j) => j.runId === b.id && j.status === 'running');
    assert.ok(job?.pid, 'the worker is running');
    process.kill(job.pid, 'SIGKILL');
    await until(() => status(b.id) === 'failed', 'run B to be marked failed', 60_000);
    assert.match(training.runs.getRun(b.id)!.error ?? '', /killed \(SIGKILL\).*resume to continue from the last checkpoint/);
    const beforeResume = progress.get(b.id)!.length;
    const lastStepBeforeKill = Math.max(...progress.get(b.id)!.map((q) => q.step));
    const resumeFrom = training.runs.latestCheckpoint(b.id)!;

    // Resume: from the checkpoint's step, on to the end.
    training.resume(b.id);
    await until(() => status(a.id) === 'done' && status(b.id) === 'done', 'both runs to finish', 60_000);
    const after = progress.get(b.id)!.slice(beforeResume);
    assert.equal(after[0]!.phase, 'starting');
    assert.equal(after[0]!.step, resumeFrom.step, 'the resumed worker starts at the checkpoint step');
    // Not from 0: from the checkpoint seen before the kill, or one written just after it (under
    // load the worker can reach its next snapshot between the check above and the kill).
    assert.ok(resumeFrom.step >= checkpointStep && resumeFrom.step > 0, `resumed from step ${resumeFrom.step}`);
    assert.ok(lastStepBeforeKill > checkpointStep, 'the kill lost steps trained after the checkpoint');
    const trainingSteps = after.filter((q) => q.phase === 'training').map((q) => q.step);
    assert.equal(trainingSteps[0], resumeFrom.step, 'training announced at the checkpoint step');
    assert.ok(trainingSteps[1]! > resumeFrom.step, `the next report is past it (${trainingSteps[1]})`);
    assert.deepEqual(trainingSteps, [...trainingSteps].sort((x, y) => x - y), 'steps only increase');

    // Both finished the same number of images; the metrics' kimg keeps increasing.
    for (const id of [a.id, b.id]) {
      const run = training.runs.getRun(id)!;
      assert.equal(run.kimgDone, 0.16);
      const kimgs = training.runs.metricSeries(id)['Loss/G']!.map(([k]) => k);
      assert.deepEqual(kimgs, [0.032, 0.064, 0.096, 0.128, 0.16]);
    }

    // Same seed, same backend: the same preview at every tick, and the same final weights and state.
    const previews = (id: number) => new Map(training.runs.listPreviews(id).map((q) => [q.kimg, training.runs.getPreview(q.id)!.png]));
    const [pa, pb] = [previews(a.id), previews(b.id)];
    assert.equal(pa.size, 5);
    for (const [kimg, png] of pa) assert.ok(pb.get(kimg)?.equals(png), `preview at ${kimg} kimg`);
    const [fa, fb] = [training.runs.latestCheckpoint(a.id)!, training.runs.latestCheckpoint(b.id)!];
    assert.equal(fb.step, 20);
    assert.ok(fb.weights.equals(fa.weights), 'final weights, bit for bit');
    assert.deepEqual((fb.state as { loop: unknown }).loop, (fa.state as { loop: unknown }).loop);
    assert.deepEqual(changes.filter((c) => c.id === b.id).map((c) => c.status), ['running', 'failed', 'running', 'done']);
  });

  it('a worker whose parent goes away pauses: saves a checkpoint and exits cleanly', async () => {
    const run = training.runs.createRun('orphan', 'baseline', training.runs.getRun(1)!.config, 0.16);
    const child = forkWorker(TRAIN_WORKER, { stderr: 'pipe' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let trained = 0;
    child.on('message', (m: FromWorker) => {
      if (m.type === 'progress') trained = (m.progress as TrainProgress).step;
    });
    const start: ToWorker = { type: 'start', jobId: 0, projectPath: project.path, params: { runId: run.id } };
    child.send(start);
    await until(() => trained >= 1, 'the orphan to train a step', 60_000);
    child.disconnect(); // what the worker sees when the service dies
    assert.equal(await exited, 0);
    const saved = training.runs.latestCheckpoint(run.id);
    assert.ok(saved && saved.step >= trained, `checkpoint at step ${saved?.step}, trained ${trained}`);
  });
});
