/**
 * Vision-aided crash recovery, as the studio runs it: 16 real emoji at 16², two runs with the same
 * seed in worker processes; one left alone, one killed with SIGKILL after a judge was selected and a
 * checkpoint written past it, then resumed. The resumed run starts at its checkpoint's step, keeps
 * the same selection history (which backbone, when, each probe accuracy), and ends bit for bit where
 * the uninterrupted run ends (weights, heads, optimiser moments, each judge's ADA state); only the
 * picked judge's head is in its checkpoints.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StudioEvent, TrainProgress, TrainSettings, VisionSelection } from '../../../core/api/contract.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { Training } from '../../../core/service/training.js';
import { DatasetStore } from '../../../core/store/dataset.js';
import { Project } from '../../../core/store/project.js';
import { decodeTensors } from '../../../core/nets/checkpoint-format.js';
import type { JudgeState } from '../../../core/vision/judge.js';
import { runImport } from '../../helpers/data.js';
import { EMOJI_DIR } from '../../unit/train/helpers.js';
import { until } from '../../helpers/poll.js';

const settings: TrainSettings = {
  preset: 'vision-aided',
  kimg: 0.02, // 10 steps of 2
  batch: 2,
  seed: 5,
  backend: 'wasm',
  advanced: {
    channelBase: 256, channelMax: 16, tickKimg: 0.004, snapshotTicks: 1, evalEvery: 0, // a tick and a checkpoint every 2 steps
    visionBackbones: 'mobilenetv2-1.0,mobilenetv2', visionK: 1, visionSelectAt: '0.004', visionWarmupKimg: 0.004, visionInput: 32,
  },
};

describe('vision-aided resume', () => {
  let dir: string;
  let project: Project;
  let training: Training;
  const progress = new Map<number, TrainProgress[]>();
  const status = (runId: number) => training.runs.getRun(runId)?.status;
  const selections = (runId: number): VisionSelection[] => (progress.get(runId) ?? []).flatMap((p) => (p.vision?.selected ? [p.vision.selected] : []));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-vision-'));
    const src = join(dir, 'emoji');
    mkdirSync(src);
    for (const f of readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, 16)) copyFileSync(join(EMOJI_DIR, f), join(src, f));
    project = Project.create(join(dir, 'emoji.atelier'), 'emoji', { appVersion: 'test' });
    const store = new DatasetStore(project.db);
    await runImport({ dir, path: project.path, project, store }, [src], { resolution: 16 });
    training = new Training(new JobManager(project), () => store, (e: StudioEvent) => {
      if (e.type === 'run.progress') progress.set(e.progress.runId, [...(progress.get(e.progress.runId) ?? []), e.progress]);
    });
  });

  after(async () => {
    await training.dispose();
    project.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 after a selection, resume: same step, same selection history, same final state bit for bit', async () => {
    const a = await training.start({ ...settings, name: 'alone' });
    const b = await training.start({ ...settings, name: 'killed' });
    await until(() => selections(b.id).length > 0, 'run B to select a judge', 120_000);
    const selectedStep = Math.max(...progress.get(b.id)!.filter((p) => p.vision?.selected).map((p) => p.step));
    await until(() => training.runs.listCheckpoints(b.id).some((c) => c.step >= selectedStep), 'a checkpoint of run B at or after the selection', 120_000);
    const checkpointStep = training.runs.latestCheckpoint(b.id)!.step;
    await until(() => (progress.get(b.id) ?? []).some((q) => q.step > checkpointStep), 'run B to train past its checkpoint', 120_000);
    const job = training.jobs.recent().find((j) => j.runId === b.id && j.status === 'running');
    assert.ok(job?.pid, 'the worker is running');
    process.kill(job.pid, 'SIGKILL');
    await until(() => status(b.id) === 'failed', 'run B to be marked failed', 60_000);
    const resumeFrom = training.runs.latestCheckpoint(b.id)!;
    const beforeResume = progress.get(b.id)!.length;

    training.resume(b.id);
    await until(() => status(a.id) === 'done' && status(b.id) === 'done', 'both runs to finish', 180_000);
    const resumed = progress.get(b.id)!.slice(beforeResume);
    assert.equal(resumed[0]!.step, resumeFrom.step, 'the resumed worker starts at the checkpoint step');
    assert.ok(resumeFrom.step >= selectedStep && resumeFrom.step > 0);
    assert.equal(selections(b.id).length, 1, 'no second selection after resuming (k = 1, kept in the checkpoint)');

    // The selection: the same in both runs, with accuracies for both candidates.
    const [sa] = selections(a.id);
    const [sb] = selections(b.id);
    assert.deepEqual(sb, sa);
    assert.equal(sa!.kimg, 0.004);
    assert.deepEqual(Object.keys(sa!.accuracies).sort(), ['mobilenetv2', 'mobilenetv2-1.0']);

    const [fa, fb] = [training.runs.latestCheckpoint(a.id)!, training.runs.latestCheckpoint(b.id)!];
    assert.equal(fb.step, 10);
    assert.ok(fb.weights.equals(fa.weights), 'final weights (G, D, G_ema, heads, moments), bit for bit');
    const loopA = (fa.state as { loop: { extras: Record<string, JudgeState> } }).loop;
    const loopB = (fb.state as { loop: { extras: Record<string, JudgeState> } }).loop;
    assert.deepEqual(loopB, loopA);
    const picked = Object.values(loopA.extras).filter((j) => j.selection !== null);
    assert.equal(picked.length, 1);
    assert.deepEqual(picked[0]!.selection, sa);
    assert.equal(picked[0]!.addedAtKimg, 0.004);
    // Only the picked judge's head and moments are saved: the other keeps its seeded weights, remade on resume.
    const judges = new Set([...decodeTensors(fa.weights).keys()].filter((n) => n.includes('vision.')).map((n) => /vision\.([^/]+)\//.exec(n)![1]));
    assert.deepEqual([...judges], [sa!.picked]);
    // The judge trained and steered G after its warm-up.
    const series = training.runs.metricSeries(a.id);
    assert.ok(Object.keys(series).some((k) => k.startsWith('Loss/G/vision.')), Object.keys(series).join(', '));
  });
});
