/**
 * Metrics on demand and across runs, through the real processes: `atelier eval` evaluates any
 * checkpoint in an evaluate worker (and says clearly what is wrong with bad input); the service
 * compares two runs, resumes from an earlier checkpoint as a branch on a fresh random stream,
 * shows a run that diverged in its worker as paused with the reason and what to do,
 * resumes a diverged run on a fresh stream too, and checks a user's feature extractor in a worker
 * before keeping it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { StudioEvent } from '../../../core/api/contract.js';
import { UserError } from '../../../core/api/errors.js';
import { selectBackend } from '../../../core/backend/select.js';
import { Training } from '../../../core/service/training.js';
import { Evaluation } from '../../../core/service/evaluation.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { DatasetStore } from '../../../core/store/dataset.js';
import { MetricsStore } from '../../../core/store/metrics.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { resolveTrainConfig } from '../../../core/train/config.js';
import { trainSession } from '../../../core/session/train-session.js';
import { EMOJI_DIR } from '../../unit/train/helpers.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/atelier.js');
const FACTS = { images: 32, resolution: 16, channels: 3, numClasses: 0 };

function atelier(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

describe('metrics on demand and across runs', () => {
  let dir: string;
  let path: string;
  let runA: number;
  let runB: number;
  let empty: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-on-demand-'));
    const src = join(dir, 'emoji');
    mkdirSync(src);
    for (const f of readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, 32)) copyFileSync(join(EMOJI_DIR, f), join(src, f));
    path = join(dir, 'p.atelier');
    assert.equal(atelier(['new', path]).code, 0);
    assert.equal(atelier(['import', path, src, '--resolution', '16', '--json']).code, 0);
    // Two tiny runs trained here (no evaluations while training), with checkpoints at every step.
    await selectBackend({ prefer: 'wasm' });
    const project = Project.open(path);
    try {
      const runs = new RunStore(project.db);
      const make = (seed: number, kimg: number, channelMax: number): number => {
        const c = resolveTrainConfig({ preset: 'baseline', kimg, batch: 8, seed, backend: 'wasm', advanced: { channelBase: 256, channelMax, tickKimg: 0.008, snapshotTicks: 1, evalEvery: 0, evalReals: 4, evalFakes: 4 } }, FACTS);
        return runs.createRun(`seed ${seed}`, 'baseline', c, c.kimg).id;
      };
      runA = make(1, 0.024, 16);
      runB = make(2, 0.016, 8);
      for (const id of [runA, runB]) await trainSession({ db: project.db, runId: id, progress: () => {}, requested: () => null, log: () => {} });
      empty = make(3, 1, 16);
    } finally {
      project.close();
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('atelier eval --json evaluates a chosen checkpoint in a worker and keeps the result with the run', () => {
    const project = Project.open(path);
    const first = new RunStore(project.db).listCheckpoints(runA)[0]!;
    project.close();
    const r = atelier(['eval', path, '--run', String(runA), '--checkpoint', String(first.id), '--reals', '4', '--fakes', '4', '--metric', 'fid', '--json']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as Record<string, unknown> & { values: Record<string, number>; value: Record<string, number>; extractor: { reference: boolean; title: string } };
    assert.equal(doc.ok, true);
    assert.deepEqual([doc.runId, doc.checkpointId, doc.kimg, doc.metric, doc.realCount, doc.fakeCount], [runA, first.id, first.kimg, 'fid', 4, 4]);
    assert.deepEqual(Object.keys(doc.value), ['Metrics/fid']);
    for (const name of ['Metrics/kid', 'Metrics/kid_std', 'Metrics/fid', 'Metrics/precision', 'Metrics/recall', 'Metrics/diversity']) assert.ok(Number.isFinite(doc.values[name]), name);
    assert.equal(doc.extractor.reference, false);
    // A CPU run is judged by the quick extractor, and so is its checkpoint on demand (the same scale).
    assert.match(doc.extractor.title, /^MobileNetV2 bundled with nsfwjs [\d.]+, at 128² \(the quick extractor for CPU runs\)$/);
    assert.match(String(doc.note), /not runs judged by the InceptionV3 or published FID or KID/);
    const again = Project.open(path);
    try {
      const stored = new MetricsStore(again.db).evaluations(runA);
      assert.deepEqual(stored.map((e) => [e.source, e.checkpointId, e.metrics['Metrics/fid']]), [['on-demand', first.id, doc.values['Metrics/fid']]]);
      assert.equal(new RunStore(again.db).metricSeries(runA)['Metrics/fid'], undefined, 'on-demand values stay out of the training curve');
    } finally {
      again.close();
    }
  });

  it('atelier eval --list shows the checkpoints, and leaves a run another process is training alone', () => {
    const project = Project.open(path);
    project.db.prepare("UPDATE runs SET status = 'running' WHERE id = ?").run(runB);
    project.db.prepare("INSERT INTO jobs (kind, status, run_id, params, created_at, updated_at) VALUES ('train', 'running', ?, '{}', 'now', 'now')").run(runB);
    project.close();
    const r = atelier(['eval', path, '--run', String(runA), '--list', '--json']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as { checkpoints: Array<{ id: number; kimg: number }>; metric: string };
    assert.deepEqual(doc.checkpoints.map((c) => c.kimg), [0.008, 0.016, 0.024]);
    assert.equal(doc.metric, 'kid');
    const after = Project.open(path);
    try {
      assert.equal(new RunStore(after.db).getRun(runB)!.status, 'running', 'another process’s run is still running');
      assert.equal(after.db.prepare("SELECT status FROM jobs WHERE run_id = ? AND kind = 'train'").pluck().get(runB), 'running');
      after.db.prepare("UPDATE runs SET status = 'paused' WHERE id = ?").run(runB);
      after.db.prepare("UPDATE jobs SET status = 'failed' WHERE run_id = ?").run(runB);
    } finally {
      after.close();
    }
  });

  it('atelier eval refuses bad input with one line that says what to do', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--run', '99'], /There is no run 99 in this project/],
      [['--run', String(empty)], /has no checkpoint yet: train it for a while first/],
      [['--run', String(runA), '--checkpoint', '12345'], /has no checkpoint 12345; it keeps \d+ \(/],
      [['--run', String(runA), '--metric', 'is'], /--metric must be one of kid, fid, pr, not "is"/],
      [['--run', String(runA), '--input-range', '0,1'], /--input-range goes with --inception PATH/],
      [[], /say which run to evaluate/],
    ];
    for (const [args, pattern] of cases) {
      const r = atelier(['eval', path, ...args]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, pattern);
      assert.equal(r.err.split('\n').length, 1, 'one line');
    }
  });

  it('the service compares runs, branches from an earlier checkpoint and resumes a diverged run on fresh streams, pauses a run that diverges in its worker, checks an extractor', async () => {
    const project = Project.open(path);
    const dataset = new DatasetStore(project.db);
    const events: StudioEvent[] = [];
    const training = new Training(new JobManager(project), () => dataset, (e) => events.push(e));
    const evaluation = new Evaluation(training.jobs, (e) => events.push(e));
    try {
      // Compare: the settings that differ, and each run's curves.
      const cmp = training.compare([runA, runB]);
      assert.deepEqual(cmp.runs.map((r) => r.id), [runA, runB]);
      const diff = new Map(cmp.configDiff.map((d) => [d.key, d.values]));
      assert.deepEqual(diff.get('seed'), ['1', '2']);
      assert.deepEqual(diff.get('kimg'), ['0.024', '0.016']);
      assert.deepEqual(diff.get('net.channelMax'), ['16', '8']);
      assert.ok(!diff.has('batch') && cmp.sameCount > 10);
      assert.equal(cmp.series[0]!['Loss/G']!.length, 3);
      assert.equal(cmp.series[1]!['Loss/G']!.length, 2);
      assert.ok(!('r_t' in cmp.series[0]!), 'only metrics and losses');

      // The detail carries the metrics' note, alerts and evaluations.
      const detail = training.get(runA);
      assert.equal(detail.metrics.metric, 'kid');
      assert.match(detail.metrics.extractor.note, /judged by MobileNetV2 \(bundled with nsfwjs\) at 128²/);
      assert.equal(detail.evaluations.length, 1);
      assert.equal(detail.best, null, 'no training evaluation: no best yet');

      // Resume from an older checkpoint: a branch; a diverged run: itself, on a fresh stream.
      const older = training.runs.listCheckpoints(runA)[0]!;
      const store = new MetricsStore(project.db);
      const latestB = training.runs.latestCheckpoint(runB)!;
      project.db.prepare("UPDATE runs SET status = 'paused' WHERE id = ?").run(runB);
      const alert = store.addAlert(runB, { kimg: latestB.kimg + 0.008, code: 'diverged', severity: 'critical', what: 'Training diverged.', todo: 'Resume.' });
      const branch = training.resume(runA, 'wasm', older.id);
      const resumedB = training.resume(runB, 'wasm');
      assert.notEqual(branch.id, runA);
      assert.equal(branch.name, `seed 1 ↳ ${older.kimg} kimg`);
      assert.equal(resumedB.id, runB);
      const params = (runId: number) => JSON.parse(project.db.prepare("SELECT params FROM jobs WHERE run_id = ? AND kind = 'train' ORDER BY id DESC").pluck().get(runId) as string) as { reseed?: number };
      assert.equal(params(branch.id).reseed, branch.id, 'the branch goes on from a fresh stream');
      assert.equal(params(runB).reseed, alert.id, 'after a divergence, a fresh stream');
      assert.deepEqual(training.runs.listCheckpoints(branch.id).map((c) => c.kimg), [older.kimg]);
      assert.equal(training.runs.listCheckpoints(runA).length, 3, 'the original keeps its checkpoints');
      const ended = (runId: number) =>
        new Promise<void>((resolve) => {
          const check = setInterval(() => {
            const s = training.runs.getRun(runId)!.status;
            if (s !== 'running' && s !== 'queued') {
              clearInterval(check);
              resolve();
            }
          }, 100);
        });
      training.pause(branch.id);
      training.pause(runB);
      await Promise.all([ended(branch.id), ended(runB)]);

      // A run that diverges in its worker pauses itself, and says why and what to do (no checkpoint yet: a new run).
      const wild = resolveTrainConfig({ preset: 'baseline', kimg: 0.1, batch: 8, seed: 5, backend: 'wasm', advanced: { channelBase: 256, channelMax: 16, tickKimg: 0.008, snapshotTicks: 4, evalEvery: 0 } }, FACTS);
      const wildRun = training.runs.createRun('wild', 'baseline', { ...wild, gLr: 1e3, dLr: 1e3 }, wild.kimg).id;
      training.resume(wildRun);
      await ended(wildRun);
      const changed = events.flatMap((e) => (e.type === 'run.changed' && e.run.id === wildRun ? [e.run.error] : []));
      const paused = training.runs.getRun(wildRun)!;
      assert.equal(paused.status, 'paused');
      assert.match(paused.error ?? '', /^Training diverged \(.+ at [\d.]+ kimg\) and paused itself; no checkpoint was written from the broken weights\. Start a new run with lower learning rates/);
      assert.equal(changed.at(-1), paused.error, 'the run.changed event carries the reason');
      assert.deepEqual(training.get(wildRun).alerts.map((a) => a.code), ['diverged']);

      // A feature extractor that does not load is refused, naming the file; null goes back to the bundled one.
      writeFileSync(join(dir, 'fid.json'), '{"modelTopology": {}, "weightsManifest": [{"paths": ["fid.bin"], "weights": []}]}');
      await assert.rejects(evaluation.setExtractor(join(dir, 'fid.json'), [0, 255]), (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.match(err.message, /fid\.bin, which cannot be read \(ENOENT\)/);
        return true;
      });
      assert.equal(evaluation.extractorInfo().reference, false);
      assert.equal((await evaluation.setExtractor(null)).path, null);
    } finally {
      await training.dispose();
      project.close();
    }
  });
});
