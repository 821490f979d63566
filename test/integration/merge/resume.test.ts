/**
 * A merge killed with SIGKILL mid-stage — during rooting, then during the joint fine-tune —
 * resumes in a fresh process at the stage and step of its last checkpoint and ends with exactly
 * the generator an uninterrupted merge makes; pausing and resuming in one process does too.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../../core/backend/select.js';
import { CheckpointDir } from '../../../core/merge/checkpoint-dir.js';
import { type MergeCheckpointWrite, runMerge } from '../../../core/merge/merge.js';
import { openMergeSources } from '../../../core/merge/open.js';
import { Project } from '../../../core/store/project.js';
import { storeModel, TINY_MERGE, tinyMergeConfig, trainTiny } from '../../helpers/merge.js';

const CHILD = new URL('../../fixtures/merge/merge-child.ts', import.meta.url).pathname;
const REPO = new URL('../../..', import.meta.url).pathname;

interface Event {
  event: 'resumed' | 'checkpoint' | 'frozen' | 'done';
  stage?: number;
  kind?: string;
  step?: number;
  reason?: string;
  sha256?: string;
  outcome?: string;
}

/** Runs the child until it is done, or freezes (then SIGKILL); its events. */
function child(project: string, dir: string, freeze?: string): Promise<{ events: Event[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const p: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, project, dir, ...(freeze ? [freeze] : [])], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const events: Event[] = [];
    let buf = '';
    let err = '';
    let killed = false;
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const e = JSON.parse(buf.slice(0, nl)) as Event;
        buf = buf.slice(nl + 1);
        events.push(e);
        if (e.event === 'frozen') {
          killed = true;
          p.kill('SIGKILL');
        }
      }
    });
    p.stderr!.on('data', (d: Buffer) => void (err += d.toString().slice(0, 2000)));
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (killed && signal === 'SIGKILL') resolve({ events, killed });
      else if (code === 0) resolve({ events, killed });
      else reject(new Error(`merge child exited ${code ?? signal}: ${err.split('\n').filter((l) => l.length < 400).slice(-8).join('\n')}`));
    });
  });
}

const lastCheckpoint = (events: Event[]): Event => events.filter((e) => e.event === 'checkpoint').at(-1)!;

describe('merge: kill -9 and resume', () => {
  let projectPath: string;
  /** The uninterrupted merge: every checkpoint (stage, step) and the result's SHA-256. */
  let reference: { checkpoints: Array<[number, number]>; sha256: string };

  let dir: string;

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'atelier-merge-resume-'));
    projectPath = join(dir, 'merge.atelier');
    const project = Project.create(projectPath, 'merge', { appVersion: 'test' });
    // Two small random generators (resuming exactly does not need trained ones).
    storeModel(project, 'A', await trainTiny(new Uint8Array(8 * 16 * 16 * 3).fill(200), tinyMergeConfig(31), 0));
    storeModel(project, 'B', await trainTiny(new Uint8Array(8 * 16 * 16 * 3).fill(40), tinyMergeConfig(32), 0));
    project.close();
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes at the same stage and step after SIGKILL during rooting and during the joint fine-tune, and ends with the same generator', async () => {
    const project = Project.open(projectPath);

    // The uninterrupted merge, in this process.
    const sources = await openMergeSources([{ kind: 'model', model: 'A' }, { kind: 'model', model: 'B' }], { db: project.db });
    const checkpoints: Array<[number, number]> = [];
    const out = await runMerge({ sources, settings: TINY_MERGE, previewImages: 0, callbacks: { checkpoint: (c) => void checkpoints.push([c.state.stage, c.state.loop?.step ?? 0]) } });
    reference = { checkpoints, sha256: createHash('sha256').update(out.result!.weights).digest('hex') };
    sources.forEach((s) => s.dispose());
    project.close();
    // Stages: rooting B (12 steps), averaging, the joint fine-tune (12 steps); a checkpoint every 4.
    assert.deepEqual(checkpoints, [[0, 0], [0, 4], [0, 8], [1, 0], [2, 0], [2, 4], [2, 8], [3, 0]]);

    // Killed 2 steps after rooting's first checkpoint (step 4).
    const ck = join(dir, 'checkpoints');
    const first = await child(projectPath, ck, 'root:2');
    assert.ok(first.killed, 'killed');
    assert.deepEqual(lastCheckpoint(first.events), { event: 'checkpoint', reason: 'interval', stage: 0, kind: 'root', step: 4 });

    // Resumed: at rooting, step 4; killed again 2 steps after the joint stage's first checkpoint.
    const second = await child(projectPath, ck, 'joint:2');
    assert.deepEqual(second.events[0], { event: 'resumed', stage: 0, step: 4 });
    assert.ok(second.killed, 'killed');
    assert.deepEqual(lastCheckpoint(second.events), { event: 'checkpoint', reason: 'interval', stage: 2, kind: 'joint', step: 4 });
    // Its checkpoints are the uninterrupted merge's from there on.
    assert.deepEqual(second.events.filter((e) => e.event === 'checkpoint').map((e) => [e.stage, e.step]), reference.checkpoints.slice(2, 6));

    // Resumed: the joint stage at step 4, to the end: the same generator, bit for bit.
    const third = await child(projectPath, ck);
    assert.deepEqual(third.events[0], { event: 'resumed', stage: 2, step: 4 });
    assert.deepEqual(third.events.filter((e) => e.event === 'checkpoint').map((e) => [e.stage, e.step]), reference.checkpoints.slice(6));
    const done = third.events.at(-1)!;
    assert.equal(done.event, 'done');
    assert.equal(done.sha256, reference.sha256, 'the resumed merge makes the same weights as the uninterrupted one');
  });

  it('pauses between steps and continues in the same process to the same generator', async (t) => {
    assert.ok(reference, 'runs after the first test');
    const project = Project.open(projectPath);
    t.after(() => project.close());
    const sources = await openMergeSources([{ kind: 'model', model: 'A' }, { kind: 'model', model: 'B' }], { db: project.db });
    const host = new CheckpointDir(join(dir, 'paused'));
    let calls = 0;
    const writes: MergeCheckpointWrite[] = [];
    const paused = await runMerge({
      sources,
      settings: TINY_MERGE,
      previewImages: 0,
      callbacks: { checkpoint: (c) => void (writes.push(c), host.write(c)), requested: () => (++calls === 22 ? 'pause' : null) },
    });
    assert.equal(paused.outcome, 'paused');
    assert.equal(writes.at(-1)!.reason, 'pause', 'pausing saves a checkpoint first');
    const at = { stage: paused.state.stage, step: paused.state.loop?.step };
    assert.ok(at.stage === 2 && at.step! > 0 && at.step! < 12, `paused in the joint stage: ${JSON.stringify(at)}`);
    const resumed = await runMerge({ sources, settings: TINY_MERGE, resume: host.read(), previewImages: 0, callbacks: { checkpoint: (c) => host.write(c) } });
    assert.equal(resumed.outcome, 'completed');
    assert.equal(createHash('sha256').update(resumed.result!.weights).digest('hex'), reference.sha256);
    // The merged model's provenance: its sources and stages.
    const src = resumed.result!.meta.source;
    assert.equal(src.kind, 'merge');
    if (src.kind === 'merge') {
      assert.deepEqual(src.sources.map((s) => [s.className, s.label, s.kind, s.share]), [['A', 'A', 'model', 0.5], ['B', 'B', 'model', 0.5]]);
      assert.deepEqual(src.stages.map((s) => [s.kind, s.source, s.steps]), [['root', 1, 12], ['average', null, 0], ['joint', null, 12]]);
    }
    sources.forEach((s) => s.dispose());
  });
});
