/**
 * `atelier merge` on two tiny 16² generators: JSON lines per stage, a merged model with a class
 * per source (its provenance lists the sources and stages) and a next-command hint; a bad ONNX
 * source refused with the reason, nothing written; and a merge whose worker is killed with SIGKILL
 * during rooting, then during the joint fine-tune, resumed each time at the stage and step of its
 * last checkpoint, to the end.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { selectBackend } from '../../../core/backend/select.js';
import { parseGeneratorMeta } from '../../../core/generator/meta.js';
import { decodeTensors } from '../../../core/nets/checkpoint-format.js';
import { Project } from '../../../core/store/project.js';
import { storeModel, tinyMergeConfig, trainTiny } from '../../helpers/merge.js';
import { tempDir } from '../../helpers/tmp.js';

const BIN = new URL('../../../bin/atelier.js', import.meta.url).pathname;

interface Line {
  type: string;
  [k: string]: unknown;
}

/** Runs `atelier`, streaming its JSON lines to `onLine` (which may kill things). */
function atelier(args: string[], onLine: (l: Line, child: ChildProcess) => void = () => {}): Promise<{ code: number | null; lines: Line[]; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Line[] = [];
    let buf = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!text.startsWith('{')) continue; // a library's own line (e.g. a GPU driver's warning)
        const l = JSON.parse(text) as Line;
        lines.push(l);
        onLine(l, child);
      }
    });
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, lines, err }));
  });
}

const rows = <T>(path: string, sql: string): T[] => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
};

let template: string;
const dir = mkdtempSync(join(tmpdir(), 'atelier-merge-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await selectBackend({ prefer: 'wasm' });
  template = join(dir, 'template.atelier');
  const p = Project.create(template, 'merge', { appVersion: 'test' });
  try {
    // Two tiny generators: one trained a few steps on light images, one on dark.
    storeModel(p, 'Light', await trainTiny(new Uint8Array(8 * 16 * 16 * 3).fill(220), tinyMergeConfig(31), 2));
    storeModel(p, 'Dark', await trainTiny(new Uint8Array(8 * 16 * 16 * 3).fill(30), tinyMergeConfig(32), 2));
  } finally {
    p.close();
  }
});

/** A fresh copy of the two-model project (`keep`: kept for the file's later tests). */
function project(t: TestContext, keep = false): string {
  const path = keep ? join(dir, `kept-${Date.now()}.atelier`) : join(tempDir(t), 'p.atelier');
  const db = new Database(template, { readonly: true });
  try {
    db.exec(`VACUUM INTO '${path.replaceAll("'", "''")}'`);
  } finally {
    db.close();
  }
  return path;
}

const TINY = ['--batch', '8', '--seed', '3', '--backend', 'wasm', '--eval-images', '0'];

/** The first test's project, with its merged model "light + dark" (the export test goes on from it). */
let mergedProject = '';

test('atelier merge: two models become one with a class each; JSON lines per stage; a next-command hint', async (t) => {
  const path = project(t, true);
  mergedProject = path;
  const r = await atelier(['merge', path, '--sources', 'model:Light,model:Dark', '--classes', 'light,dark', '--kimg-root', '0.032', '--kimg-merge', '0.032', '--tick-kimg', '0.016', '--snapshot-ticks', '1', ...TINY, '--json']);
  assert.equal(r.code, 0, r.err);
  const types = r.lines.map((l) => l.type);
  assert.equal(types[0], 'started');
  assert.equal(types.at(-1), 'end');
  const started = r.lines[0]!;
  assert.deepEqual(started.classes, ['light', 'dark']);
  assert.deepEqual((started.stages as Array<{ kind: string }>).map((s) => s.kind), ['root', 'average', 'joint']);
  // One line as each stage begins, in order.
  assert.deepEqual(r.lines.filter((l) => l.type === 'stage').map((l) => [l.stage, l.kind]), [[0, 'root'], [1, 'average'], [2, 'joint']]);
  assert.ok(r.lines.some((l) => l.type === 'tick' && l.kind === 'joint'), 'ticks of the joint fine-tune');
  assert.ok(r.lines.some((l) => l.type === 'checkpoint' && l.reason === 'interval' && l.stage === 0 && (l.step as number) > 0), 'checkpoints within a stage');

  const end = r.lines.at(-1)!;
  assert.equal(end.status, 'done');
  assert.equal(end.model, 'light + dark');
  assert.deepEqual((end.stages as Array<{ kind: string; steps: number }>).map((s) => [s.kind, s.steps]), [['root', 4], ['average', 0], ['joint', 4]]);
  // The next command samples a class of the result (quoted for a shell); its folder beside the project.
  assert.equal(end.next, `atelier sample ${path} --model 'light + dark' --seeds 0-15 --class light --out ${path.replace(/\.atelier$/, '')}-merge-1-samples`);

  // A normal model: two classes, the root's size, provenance listing its sources and stages.
  const [model] = rows<{ id: number; metadata: string }>(path, "SELECT id, metadata FROM models WHERE name = 'light + dark'");
  assert.ok(model, 'the merged model is in Models');
  assert.equal(model.id, end.modelId);
  const meta = parseGeneratorMeta(JSON.parse(model.metadata), 'the merged model');
  assert.deepEqual(meta.classNames, ['light', 'dark']);
  assert.equal(meta.source.kind, 'merge');
  if (meta.source.kind === 'merge') {
    assert.deepEqual(meta.source.sources.map((s) => [s.className, s.label, s.kind]), [['light', 'Light', 'model'], ['dark', 'Dark', 'model']]);
    assert.deepEqual(meta.source.stages.map((s) => s.kind), ['root', 'average', 'joint']);
  }
  // Not larger than one source: the same networks, plus only the class embedding (the mapping's first layer takes it as input).
  const [source] = rows<{ weights: Buffer }>(path, "SELECT weights FROM models WHERE name = 'Light'");
  const [merged] = rows<{ weights: Buffer }>(path, "SELECT weights FROM models WHERE name = 'light + dark'");
  const a = decodeTensors(source!.weights, 'Light');
  const m = decodeTensors(merged!.weights, 'merged');
  const differs = [...m].filter(([k, v]) => a.get(k)?.shape.join() !== v.shape.join()).map(([k]) => k);
  assert.deepEqual(differs.sort(), ['G.mapping.embed.bias', 'G.mapping.embed.weight', 'G.mapping.fc0.weight']);
  assert.deepEqual([...a.keys()].filter((k) => !m.has(k)), [], 'every parameter of the source is there');
  // The merge is done; its checkpoint blobs went with it; a preview strip per class is kept.
  assert.deepEqual(rows(path, 'SELECT status, model_id FROM merges'), [{ status: 'done', model_id: model.id }]);
  assert.deepEqual(rows(path, 'SELECT count(*) AS n FROM merge_blobs'), [{ n: 0 }]);
  assert.deepEqual(rows(path, 'SELECT class_index, class_name FROM merge_previews ORDER BY class_index'), [{ class_index: 0, class_name: 'light' }, { class_index: 1, class_name: 'dark' }]);
});

test('a merged model exports (TF.js, ONNX) and its exports are sources of a further merge', async (t) => {
  assert.ok(mergedProject, 'runs after the first test');
  const path = mergedProject;
  const out = tempDir(t);
  for (const [format, dest] of [['tfjs', join(out, 'mix-tfjs')], ['onnx', join(out, 'mix.onnx')]] as const) {
    const r = await atelier(['export', path, '--model', 'light + dark', '--format', format, '--out', dest, '--backend', 'wasm', '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.lines.at(-1)!.ok, true);
  }
  // The root a model of the project; the merged model's two exports as the other sources (each samples both its classes).
  const r = await atelier(['merge', path, '--sources', `model:Dark,${join(out, 'mix-tfjs')},${join(out, 'mix.onnx')}`, '--classes', 'dark,mix-tfjs,mix-onnx', '--kimg-root', '0.016', '--kimg-merge', '0.016', '--tick-kimg', '0.016', '--snapshot-ticks', '1', ...TINY, '--json']);
  assert.equal(r.code, 0, r.err);
  const started = r.lines[0]!;
  assert.deepEqual((started.sources as Array<{ kind: string }>).map((s) => s.kind), ['model', 'tfjs', 'onnx']);
  const end = r.lines.at(-1)!;
  assert.deepEqual([end.status, end.classes], ['done', ['dark', 'mix-tfjs', 'mix-onnx']]);
  assert.deepEqual((end.stages as Array<{ kind: string }>).map((s) => s.kind), ['root', 'root', 'average', 'joint']);
});

test('atelier merge: a malformed ONNX source is refused with the reason, before anything is written', async (t) => {
  const path = project(t);
  const onnx = join(tempDir(t), 'broken.onnx');
  writeFileSync(onnx, 'this is not an ONNX model');
  const r = await atelier(['merge', path, '--sources', `model:Light,${onnx}`, '--kimg-root', '1', '--kimg-merge', '1', ...TINY, '--json']);
  assert.equal(r.code, 1);
  assert.equal(r.err.trim().split('\n').filter((l) => l.startsWith('atelier merge:')).length, 1, r.err);
  assert.match(r.err, /atelier merge: .*broken\.onnx/);
  assert.equal((r.lines.at(-1) as { ok?: boolean }).ok, false);
  assert.deepEqual(rows(path, 'SELECT count(*) AS n FROM merges'), [{ n: 0 }], 'no merge written');
  assert.deepEqual(rows(path, 'SELECT count(*) AS n FROM models'), [{ n: 2 }], 'no model written');
});

test('atelier merge: killed with SIGKILL during rooting, then during the joint fine-tune, it resumes at the same stage and step', async (t) => {
  const path = project(t);
  const workerPid = (): number => rows<{ pid: number }>(path, "SELECT pid FROM jobs WHERE kind = 'merge' AND status = 'running'")[0]!.pid;
  const stored = (): { stage: number; step: number; kind: string } => {
    const state = JSON.parse(rows<{ state: string }>(path, 'SELECT state FROM merges')[0]!.state) as { stage: number; loop: { step: number } | null; plan: { stages: Array<{ kind: string }> } };
    return { stage: state.stage, step: state.loop?.step ?? 0, kind: state.plan.stages[state.stage]!.kind };
  };
  /** Kills the worker at its first interval checkpoint in a stage of `kind`. */
  const killAt = (kind: string) => {
    let killed = false;
    return (l: Line): void => {
      if (killed || l.type !== 'checkpoint' || l.reason !== 'interval') return;
      const stage = l.stage as number;
      if ((kind === 'root' && stage === 0) || (kind === 'joint' && stage === 2)) {
        killed = true;
        process.kill(workerPid(), 'SIGKILL');
      }
    };
  };
  // Rooting and the joint stage: 8 steps of 8 each, a checkpoint every 2.
  const first = await atelier(['merge', path, '--sources', 'model:Light,model:Dark', '--kimg-root', '0.064', '--kimg-merge', '0.064', '--tick-kimg', '0.016', '--snapshot-ticks', '1', ...TINY, '--json'], killAt('root'));
  assert.equal(first.code, 1, 'the worker died: a failure');
  const end1 = first.lines.at(-1)!;
  assert.equal(end1.status, 'failed');
  assert.match(String(end1.error), /resume/i);
  assert.equal(end1.resume, `atelier merge ${path} --resume 1`);
  assert.equal(end1.next, end1.resume, 'the next command resumes it');
  const at1 = stored();
  assert.equal(at1.kind, 'root', 'killed during rooting');
  assert.ok(at1.step > 0 && at1.step < 8, `mid-stage: step ${at1.step}`);
  assert.deepEqual([end1.stage, end1.step], [at1.stage, at1.step]);

  const second = await atelier(['merge', path, '--resume', '1', '--json'], killAt('joint'));
  const started2 = second.lines[0]!;
  assert.deepEqual([started2.type, started2.resumed, started2.stage, started2.step], ['started', true, at1.stage, at1.step], 'resumed at the same stage and step');
  const stage2 = second.lines.find((l) => l.type === 'stage')!;
  assert.deepEqual([stage2.stage, stage2.step], [at1.stage, at1.step], 'rooting continues from that step');
  assert.equal(second.code, 1);
  const at2 = stored();
  assert.equal(at2.kind, 'joint', 'killed during the joint fine-tune');
  assert.ok(at2.step > 0 && at2.step < 8, `mid-stage: step ${at2.step}`);

  const third = await atelier(['merge', path, '--resume', '1', '--json']);
  assert.equal(third.code, 0, third.err);
  assert.deepEqual([third.lines[0]!.stage, third.lines[0]!.step], [at2.stage, at2.step]);
  assert.deepEqual([third.lines.find((l) => l.type === 'stage')!.stage, third.lines.find((l) => l.type === 'stage')!.step], [at2.stage, at2.step]);
  const end3 = third.lines.at(-1)!;
  assert.equal(end3.status, 'done');
  // Each stage's steps, summed over the sessions, are the plan's: nothing redone twice, nothing skipped.
  assert.deepEqual((end3.stages as Array<{ kind: string; steps: number }>).map((s) => [s.kind, s.steps]), [['root', 8], ['average', 0], ['joint', 8]]);
  assert.deepEqual(rows(path, 'SELECT count(*) AS n FROM models'), [{ n: 3 }]);
});
