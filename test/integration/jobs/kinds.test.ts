/**
 * The job-kind map (core/jobs/kinds.ts) at compile time — run by `npm run typecheck`, which
 * includes test/ — and an import as a job at run time: a job's params, progress and result are
 * its kind's; an import runs under the project's JobManager like training and evaluation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startImport } from '../../../core/data/import-job.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import type { JobInfo } from '../../../core/jobs/protocol.js';
import { EMOJI_DIR, newProject } from '../../helpers/data.js';

const entry = new URL('file:///nowhere.ts');

/** Never called: what must and must not compile. */
export function compileOnly(jobs: JobManager): void {
  // @ts-expect-error — a train job is started with its run, not an import's id
  jobs.start({ kind: 'train', entry, params: { importId: 1 } });
  // @ts-expect-error — 'sample' and 'export' are not job kinds
  jobs.start({ kind: 'sample', entry, params: {} });
  // A train job's progress is TrainProgress, its result says why it paused.
  const train = jobs.start({ kind: 'train', entry, params: { runId: 1 }, onProgress: (p) => void (p.kimg satisfies number) });
  void train.done.then((j) => j.result?.pausedBecause satisfies string | undefined);
  // @ts-expect-error — an import's progress has no kimg
  jobs.start({ kind: 'import', entry, params: { importId: 1, sources: [], settings: {} as never, options: {} as never }, onProgress: (p) => p.kimg });
  // An evaluation answers an evaluation or an extractor check.
  const ev = jobs.start({ kind: 'evaluate', entry, params: { kind: 'evaluate', runId: 1 } });
  void ev.done.then((j) => (j.result && 'evaluation' in j.result ? j.result.evaluation.kimg : j.result?.dim));
  // A merge is declared (its types filled in by the merge preset).
  jobs.start({ kind: 'merge', entry, params: { mergeId: 1 } });
}

test('an import is a job of the project\'s JobManager: in the jobs table with its pid, typed progress, and its result', async (t) => {
  const p = newProject(t);
  const src = join(p.dir, 'src');
  mkdirSync(src);
  for (const f of readdirSync(EMOJI_DIR).sort().slice(0, 6)) copyFileSync(join(EMOJI_DIR, f), join(src, f));
  const changes: JobInfo[] = [];
  const jobs = new JobManager(p.project, { changed: (j) => changes.push(j) });
  const handle = await startImport(jobs, { sources: [src], settings: { resolution: 16 } });
  const running = jobs.get(handle.jobId)!;
  assert.equal(running.kind, 'import');
  assert.equal(running.status, 'running');
  assert.ok(handle.pid && running.pid === handle.pid, 'the job row holds the worker');
  assert.equal(p.project.db.prepare('SELECT pid FROM imports WHERE id = ?').pluck().get(handle.importId), handle.pid, 'and so does the import row');
  const report = await handle.done;
  assert.equal(report.status, 'done');
  assert.equal(report.imported + report.duplicates, 6);
  assert.equal(handle.latest()?.done, 6, 'progress came through the job');
  const ended = jobs.get(handle.jobId)!;
  assert.equal(ended.status, 'done');
  assert.deepEqual(ended.progress, { importId: handle.importId, status: 'done' }, 'its result is kept with the job');
  assert.deepEqual(changes.map((c) => [c.kind, c.status]), [['import', 'running'], ['import', 'done']]);
});
