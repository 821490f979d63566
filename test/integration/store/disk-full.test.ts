/**
 * A full disk, wherever it strikes, is one line — "The disk holding X is full; free space and
 * resume." — and what was running pauses (training) or ends failed (an import), with what it had
 * saved kept and the project file healthy. On a real small disk (a tmpfs; skipped where it cannot
 * be mounted): `atelier train`, `atelier import`, and training in the browser mode's service.
 * With an injected SQLITE_FULL (runs everywhere): a progress write in the service hosting the
 * workers, the probe's crash, and a request that hits the full disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RunSummary, StudioEvent } from '../../../core/api/contract.js';
import { createDispatcher } from '../../../core/api/dispatch.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import type { JobInfo } from '../../../core/jobs/protocol.js';
import type { CountingJob } from '../../fixtures/workers/counting-worker.js';
import { RootedPaths } from '../../../core/service/paths.js';
import { StudioService } from '../../../core/service/studio-service.js';
import { JobStore } from '../../../core/store/jobs.js';
import { startImport } from '../../../core/data/import-job.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { resolveTrainConfig } from '../../../core/train/config.js';
import { fillDisk, smallDisk } from '../../helpers/small-disk.js';
import { tempDir } from '../../helpers/tmp.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/atelier.js');
const EMOJI_DIR = join(ROOT, 'node_modules/emoji-datasource-twitter/img/twitter/64');
const line = (path: string): string => `The disk holding ${path} is full; free space and resume.`;

function emoji(into: string, count: number): string {
  mkdirSync(into, { recursive: true });
  for (const f of readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, count)) copyFileSync(join(EMOJI_DIR, f), join(into, f));
  return into;
}

function cli(args: string[], onLine?: (l: Record<string, unknown>, pid: number) => void): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    const before = out.length;
    out += c.toString();
    if (onLine) for (const l of out.slice(out.lastIndexOf('\n', before) + 1).split('\n').slice(0, -1)) onLine(JSON.parse(l) as Record<string, unknown>, child.pid!);
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

function rows(path: string, sql: string): Array<Record<string, unknown>> {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

function integrity(path: string): string {
  return String(rows(path, 'PRAGMA integrity_check')[0]!.integrity_check);
}

/** Tiny networks, a tick every 2 steps, no evaluations: a run that writes often and trains fast. */
const TINY = { channelBase: 256, channelMax: 16, tickKimg: 0.008, snapshotTicks: 1000, evalEvery: 0 };

test('atelier train on a disk that fills: one line, the run paused (not "running"); freed, it resumes', async (t) => {
  const disk = smallDisk(t, 8192);
  if ('skip' in disk) return t.skip(disk.skip);
  const project = join(disk.dir, 'p.atelier');
  const p = Project.create(project, 'p', { appVersion: 'test' });
  try {
    const report = await (await startImport(new JobManager(p), { sources: [emoji(join(tempDir(t), 'e'), 32)], settings: { resolution: 16 } })).done;
    assert.equal(report.imported, 32);
    const config = resolveTrainConfig({ preset: 'baseline', kimg: 0.4, batch: 4, seed: 1, advanced: TINY }, { images: 32, resolution: 16, channels: 3, numClasses: 0 });
    new RunStore(p.db).setStatus(new RunStore(p.db).createRun('run 1', config.preset, config, config.kimg).id, 'paused');
  } finally {
    p.close();
  }
  const filler = fillDisk(disk.dir, 300); // the job manager's reserve (128 KiB), and a few ticks' previews and statistics

  const full = await cli(['train', project, '--resume', '1', '--backend', 'wasm', '--json']);
  assert.doesNotMatch(full.err, /SqliteError|database or disk is full|\n\s+at /, 'no raw error, no stack trace');
  const end = JSON.parse(full.out.trim().split('\n').at(-1)!) as { type: string; status: string; error: string; resume: string };
  assert.deepEqual([end.type, end.status, end.error], ['end', 'paused', line(project)]);
  assert.equal(full.code, 1, 'a failure: exit code 1');
  assert.deepEqual(rows(project, 'SELECT status, error FROM runs'), [{ status: 'paused', error: line(project) }], 'the file says paused, with the reason');
  assert.deepEqual(rows(project, "SELECT status FROM jobs WHERE kind = 'train'"), [{ status: 'paused' }]);
  assert.equal(integrity(project), 'ok');

  rmSync(filler);
  const resumed = await cli(['train', project, '--resume', '1', '--backend', 'wasm', '--json'], (l, pid) => {
    if (l.type === 'phase' && l.phase === 'training') process.kill(pid, 'SIGINT');
  });
  assert.equal(resumed.code, 0, resumed.err);
  assert.equal((JSON.parse(resumed.out.trim().split('\n').at(-1)!) as { status: string }).status, 'paused');
});

test('atelier import on a disk that fills: one line, the import failed (not "running"), what was imported kept', async (t) => {
  const disk = smallDisk(t, 8192);
  if ('skip' in disk) return t.skip(disk.skip);
  const project = join(disk.dir, 'q.atelier');
  assert.equal(spawnSync(process.execPath, [BIN, 'new', project], { cwd: ROOT }).status, 0);
  // A first import on a disk with room: these must survive the second one failing.
  const first = await cli(['import', project, emoji(join(tempDir(t), 'a'), 20), '--resolution', '64']);
  assert.equal(first.code, 0, first.err);
  fillDisk(disk.dir, 500);
  const r = await cli(['import', project, emoji(join(tempDir(t), 'e'), 150), '--resolution', '64']);
  assert.equal(r.code, 1);
  assert.equal(r.err, `atelier import: ${line(project)}\n`, 'exactly one line on stderr');
  const imports = rows(project, 'SELECT status, error FROM imports ORDER BY id');
  assert.deepEqual(imports.at(-1), { status: 'failed', error: line(project) });
  assert.equal(imports[0]!.status, 'done', 'the first import still reads done');
  // The first import's 20 are kept; the failed one adds what it had committed (how many depends on
  // the file system's block accounting), never all 150.
  const kept = Number(rows(project, 'SELECT count(*) AS n FROM images')[0]!.n);
  assert.ok(kept >= 20 && kept < 170, `${kept} images kept`);
  assert.equal(integrity(project), 'ok');
});

test('browser mode: training on a disk that fills pauses the run with the line; the server goes on', async (t) => {
  const disk = smallDisk(t, 8192);
  if ('skip' in disk) return t.skip(disk.skip);
  const service = new StudioService({ mode: 'browser', appHome: tempDir(t), paths: new RootedPaths(disk.dir) });
  t.after(() => service.dispose());
  const call = createDispatcher(service.handlers(), { log: () => undefined });
  const ctx = { transport: 'ws' as const };
  const project = join(disk.dir, 'b.atelier');
  assert.ok((await call('project.create', { path: project }, ctx)).ok);
  const src = emoji(join(disk.dir, 'src'), 32);
  const imported = new Promise((resolve) => service.subscribe((e: StudioEvent) => e.type === 'import.finished' && resolve(e.report)));
  assert.ok((await call('dataset.import', { sources: [src], settings: { resolution: 16 } }, ctx)).ok);
  await imported;
  fillDisk(disk.dir, 300);

  const ended = new Promise<RunSummary>((resolve) =>
    service.subscribe((e: StudioEvent) => e.type === 'run.changed' && e.run.status !== 'running' && e.run.status !== 'queued' && resolve(e.run)),
  );
  const started = await call('train.start', { preset: 'baseline', kimg: 0.4, batch: 4, backend: 'wasm', advanced: TINY }, ctx);
  assert.ok(started.ok, JSON.stringify(started));
  const run = await ended;
  assert.deepEqual([run.status, run.error], ['paused', line(project)]);
  const listed = await call('runs.list', {}, ctx);
  assert.ok(listed.ok && (listed.value as RunSummary[])[0]!.status === 'paused', 'the file says paused too');
  assert.ok((await call('app.info', {}, ctx)).ok, 'and the service still answers');
});

/** better-sqlite3's own error for a full disk. */
const sqliteFull = (): Error => new Database.SqliteError('database or disk is full', 'SQLITE_FULL');

test('injected: a progress write that finds the disk full does not end the host; the job pauses with the line', async (t) => {
  const project = Project.create(join(tempDir(t), 'inj.atelier'), 'inj', { appVersion: 'test' });
  t.after(() => project.close());
  const changes: JobInfo[] = [];
  const manager = new JobManager<{ train: CountingJob }>(project, { changed: (j) => changes.push(j), progress: () => undefined });
  t.after(() => manager.shutdown(2000));
  // The probe's crash: JobStore.setProgress, called from JobManager.onMessage, threw SQLITE_FULL.
  const original = JobStore.prototype.setProgress;
  let writes = 0;
  JobStore.prototype.setProgress = function (this: JobStore, ...args: Parameters<JobStore['setProgress']>) {
    if (++writes >= 3) throw sqliteFull();
    return original.apply(this, args);
  };
  t.after(() => (JobStore.prototype.setProgress = original));
  const crashes: unknown[] = [];
  const onCrash = (err: unknown): void => void crashes.push(err);
  process.on('uncaughtException', onCrash);
  t.after(() => process.off('uncaughtException', onCrash));

  const { done } = manager.start({ kind: 'train', entry: new URL('../../fixtures/workers/counting-worker.ts', import.meta.url), params: { steps: 400, stepMs: 10 } });
  const final = await done;
  assert.deepEqual(crashes, []);
  assert.equal(final.status, 'paused', 'asked to pause, it paused');
  assert.equal(final.error, line(project.path));
  assert.deepEqual(project.db.prepare('SELECT status, error FROM jobs').get(), { status: 'paused', error: line(project.path) });
  assert.deepEqual(changes.map((c) => c.status), ['running', 'paused']);
});

test('injected: a request that hits a full disk is answered with the line, not as a bug', async (t) => {
  const root = tempDir(t);
  const service = new StudioService({ mode: 'browser', appHome: tempDir(t), paths: new RootedPaths(root) });
  t.after(() => service.dispose());
  const call = createDispatcher(service.handlers(), { log: () => undefined });
  const ctx = { transport: 'ws' as const };
  const path = join(root, 'r.atelier');
  assert.ok((await call('project.create', { path }, ctx)).ok);
  const original = Project.prototype.summary;
  Project.prototype.summary = () => {
    throw sqliteFull();
  };
  t.after(() => (Project.prototype.summary = original));
  const r = await call('project.current', {}, ctx);
  assert.deepEqual(r, { ok: false, error: { code: 'io', message: line(path), subject: path } });
});
