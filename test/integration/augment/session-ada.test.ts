/**
 * An ADA run as the studio trains it (trainSession on a real project file, 8 emoji imported by the
 * importer): p and the heuristic's accumulators go into the checkpoint, a run stopped mid-interval
 * and resumed continues with them, and it ends bit for bit where an uninterrupted run ends.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startImport } from '../../../core/data/import-job.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { selectBackend } from '../../../core/backend/select.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { resolveTrainConfig } from '../../../core/train/config.js';
import type { CheckpointState } from '../../../core/train/checkpoint-state.js';
import { trainSession } from '../../../core/session/train-session.js';
import { EMOJI_DIR } from '../../unit/train/helpers.js';

describe('ADA training session', () => {
  let dir: string;
  let project: Project;
  let runs: RunStore;

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'atelier-ada-session-'));
    const src = join(dir, 'src');
    mkdirSync(src);
    for (const f of readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, 8)) copyFileSync(join(EMOJI_DIR, f), join(src, f));
    project = Project.create(join(dir, 'a.atelier'), 'a', { appVersion: 'test' });
    const report = await (await startImport(new JobManager(project), { sources: [src], settings: { resolution: 16 } })).done;
    assert.equal(report.imported, 8);
    runs = new RunStore(project.db);
  });

  after(() => {
    project.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stopped mid-interval and resumed, it continues with its p and ends where an uninterrupted run ends', async () => {
    // 16 steps of 8 on 8 reals (D memorises them: p rises), a tick and a checkpoint every 4 steps.
    const config = resolveTrainConfig(
      { preset: 'ada', kimg: 0.128, batch: 8, seed: 5, advanced: { channelBase: 256, channelMax: 16, tickKimg: 0.032, snapshotTicks: 1, dLr: 0.01, augSpeedKimg: 0.5 } },
      { images: 8, resolution: 16, channels: 3, numClasses: 0 },
    );
    const run = (id: number, stopAt: number | null) => {
      let step = 0;
      return trainSession({
        db: project.db,
        runId: id,
        progress: (p) => (step = p.step),
        requested: () => (stopAt !== null && step >= stopAt ? 'stop' : null),
        progressEveryMs: 0,
        log: () => {},
      });
    };
    const alone = runs.createRun('alone', 'ada', config, config.kimg).id;
    const stopped = runs.createRun('stopped', 'ada', config, config.kimg).id;
    assert.equal((await run(alone, null)).outcome, 'completed');
    assert.equal((await run(stopped, 10)).outcome, 'stopped');

    const mid = runs.latestCheckpoint(stopped)!;
    const midState = (mid.state as CheckpointState).loop.augment;
    assert.equal(mid.step, 10);
    assert.deepEqual([midState.kind, midState.steps, midState.images, midState.count], ['ada', 1, 8, 8], 'mid-interval accumulators saved (9 steps taken in: statistics act one step late)');
    assert.ok(midState.p > 0, `p rose before the stop: ${midState.p}`);

    assert.equal((await run(stopped, null)).outcome, 'completed');
    const [a, b] = [runs.latestCheckpoint(alone)!, runs.latestCheckpoint(stopped)!];
    assert.equal(b.step, 16);
    assert.deepEqual((b.state as CheckpointState).loop, (a.state as CheckpointState).loop, 'the same loop state, augmentation included');
    assert.ok(b.weights.equals(a.weights), 'the same weights, bit for bit');
    // Augment/p is a mean over each tick: the same, except the tick the stop fell in (its mean covers only the resumed steps).
    const [pa, pb] = [runs.metricSeries(alone)['Augment/p']!, runs.metricSeries(stopped)['Augment/p']!];
    assert.deepEqual(pb.map(([k]) => k), [0.032, 0.064, 0.096, 0.128]);
    assert.deepEqual([pb[0], pb[1], pb[3]], [pa[0], pa[1], pa[3]]);
    assert.ok(pb[3]![1]! > midState.p, `p went on rising after the resume: ${midState.p} → ${pb[3]![1]}`);
  });
});
