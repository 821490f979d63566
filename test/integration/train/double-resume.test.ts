/**
 * One trainer per run. Two `atelier train --resume 1` started together: the test holds the
 * project's write lock until both processes wait on it (each is then past every read it does
 * before training), and lets go — exactly one trains, the other is refused naming the process
 * that trains the run. (The lock itself: test/unit/jobs/run-lock.test.ts.)
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startImport } from '../../../core/data/import-job.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { resolveTrainConfig } from '../../../core/train/config.js';
import { tempDir } from '../../helpers/tmp.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/atelier.js');
const EMOJI_DIR = join(ROOT, 'node_modules/emoji-datasource-twitter/img/twitter/64');

/** A project with 32 emoji at 16² and one paused run (no checkpoint yet): 4 tiny steps, or as `advanced` says. */
async function projectWithRun(t: TestContext, kimg = 0.016, advanced: Record<string, number> = {}): Promise<{ path: string; runId: number }> {
  const dir = tempDir(t);
  const src = join(dir, 'emoji');
  mkdirSync(src);
  for (const f of readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, 32)) copyFileSync(join(EMOJI_DIR, f), join(src, f));
  const path = join(dir, 'p.atelier');
  const project = Project.create(path, 'p', { appVersion: 'test' });
  try {
    const report = await (await startImport(new JobManager(project), { sources: [src], settings: { resolution: 16 } })).done;
    assert.equal(report.imported, 32);
    const config = resolveTrainConfig(
      { preset: 'baseline', kimg, batch: 4, seed: 1, advanced: { channelBase: 256, channelMax: 16, tickKimg: 0.008, snapshotTicks: 1, ...advanced } },
      { images: 32, resolution: 16, channels: 3, numClasses: 0 },
    );
    const runs = new RunStore(project.db);
    const run = runs.createRun('run 1', config.preset, config, config.kimg);
    runs.setStatus(run.id, 'paused');
    return { path, runId: run.id };
  } finally {
    project.close();
  }
}

/** The kernel function process `pid`'s main thread sleeps in ('' when it runs). */
function waitChannel(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'utf8');
  } catch {
    return '';
  }
}

test('two `atelier train --resume` at once: one trains, the other is refused naming the process', { skip: process.platform !== 'linux' && 'reads /proc to see both processes wait' }, async (t) => {
  const { path, runId } = await projectWithRun(t);
  const holder = new Database(path);
  holder.exec('BEGIN IMMEDIATE'); // the project's write lock: both processes will wait on it
  t.after(() => holder.open && holder.close());
  const run = (): { pid: number; done: Promise<{ pid: number; code: number | null; out: string; err: string }> } => {
    const child = spawn(process.execPath, [BIN, 'train', path, '--resume', String(runId), '--backend', 'wasm', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    return { pid: child.pid!, done: new Promise((resolve) => child.on('close', (code) => resolve({ pid: child.pid!, code, out, err }))) };
  };
  const both = [run(), run()];
  // SQLite's busy handler sleeps in nanosleep: once both sleep there, both are past their reads.
  const deadline = Date.now() + 60_000;
  let firstWaiting: number | null = null;
  for (;;) {
    const waiting = both.filter((c) => /nanosleep/.test(waitChannel(c.pid)));
    if (waiting.length > 0) firstWaiting ??= Date.now();
    // Both waiting; or one has waited 4 s (SQLite gives up after 5): let go either way.
    if (waiting.length === 2 || (firstWaiting !== null && Date.now() - firstWaiting > 4000) || Date.now() > deadline) {
      assert.equal(waiting.length, 2, 'both processes reached the lock within 4 s of each other (else the race is not forced)');
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  holder.exec('COMMIT');
  holder.close();
  const results = await Promise.all(both.map((c) => c.done));

  const trained = results.filter((r) => r.code === 0);
  const refused = results.filter((r) => r.code !== 0);
  assert.equal(trained.length, 1, `exactly one trains: ${results.map((r) => `${r.code} ${r.err.trim()}`).join(' | ')}`);
  assert.equal(refused.length, 1);
  const winner = trained[0]!;
  const end = JSON.parse(winner.out.trim().split('\n').at(-1)!) as { type: string; status: string };
  assert.deepEqual([end.type, end.status], ['end', 'done']);
  const refusal = JSON.parse(refused[0]!.out.trim().split('\n').at(-1)!) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(refusal.error.code, 'exists');
  // The process named is the one that trains (the winning CLI's worker, or that CLI before it forked), not the refused one.
  const named = Number(/Run 1 is already being trained by process (\d+)/.exec(refusal.error.message)?.[1]);
  assert.ok(named > 0 && named !== refused[0]!.pid, refusal.error.message);
  assert.match(refused[0]!.err, /^atelier train: Run 1 is already being trained by process \d+/);
  const db = new Database(path, { readonly: true });
  try {
    const jobs = db.prepare("SELECT status, pid FROM jobs WHERE kind = 'train'").all() as Array<{ status: string; pid: number | null }>;
    assert.equal(jobs.length, 1, 'one train job, not two');
    assert.equal(jobs[0]!.status, 'done');
    const steps = db.prepare('SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step').all(runId) as Array<{ step: number }>;
    assert.equal(new Set(steps.map((s) => s.step)).size, steps.length, 'no checkpoint written twice');
  } finally {
    db.close();
  }
});


type Line = Record<string, unknown> & { type: string };

/** `atelier train --resume`, calling `onLine` with each JSON line; resolves with the exit code and the lines. */
function resume(path: string, runId: number, onLine: (l: Line, pid: number) => void = () => {}): Promise<{ code: number | null; lines: Line[]; err: string }> {
  const child = spawn(process.execPath, [BIN, 'train', path, '--resume', String(runId), '--backend', 'wasm', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let buf = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = JSON.parse(buf.slice(0, i)) as Line;
      buf = buf.slice(i + 1);
      lines.push(l);
      onLine(l, child.pid!);
    }
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, lines, err })));
}

test('after a crash past the last checkpoint, `end` and the next `started` give the checkpoint\'s kimg, where training continues', async (t) => {
  // Ticks every 2 steps; checkpoints only when pausing or finishing.
  const { path, runId } = await projectWithRun(t, 0.4, { snapshotTicks: 100_000 });
  const workerPid = (): number => {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare("SELECT pid FROM jobs WHERE kind = 'train' AND status = 'running'").get() as { pid: number }).pid;
    } finally {
      db.close();
    }
  };

  // 1. Pause at the first tick: a checkpoint there.
  let paused = false;
  const first = await resume(path, runId, (l, pid) => {
    if (l.type === 'tick' && !paused) {
      paused = true;
      process.kill(pid, 'SIGINT');
    }
  });
  assert.equal(first.code, 0, first.err);
  const checkpoint = first.lines.find((l) => l.type === 'checkpoint')!;
  assert.ok(checkpoint, 'the pause saved a checkpoint');

  // 2. Resume, and kill the worker (kill -9) at its first tick: ticks past the checkpoint, no new checkpoint.
  let killed = 0;
  const second = await resume(path, runId, (l) => {
    if (l.type === 'tick' && !killed) {
      killed = l.kimg as number;
      process.kill(workerPid(), 'SIGKILL');
    }
  });
  assert.ok(killed > (checkpoint.kimg as number), `a tick (${killed} kimg) past the checkpoint (${String(checkpoint.kimg)})`);
  const end = second.lines.at(-1)!;
  assert.deepEqual([end.type, end.status], ['end', 'failed']);
  assert.equal(end.kimg, checkpoint.kimg, `end names the checkpoint's kimg, not the last tick's (${killed})`);
  assert.equal(end.step, checkpoint.step);

  // 3. Resume again: it starts where the checkpoint is.
  const third = await resume(path, runId, (l, pid) => {
    if (l.type === 'phase' && l.phase === 'training') process.kill(pid, 'SIGINT');
  });
  assert.equal(third.code, 0, third.err);
  const started = third.lines[0]!;
  assert.equal(started.type, 'started');
  assert.equal(started.kimgDone, checkpoint.kimg, `started names the checkpoint's kimg, not the last tick's (${killed})`);
  const training = third.lines.find((l) => l.type === 'phase' && l.phase === 'training')!;
  assert.equal(training.step, checkpoint.step, 'and training does continue there');
});
