/**
 * The command line has no dead ends: `atelier runs` lists the ids to resume, sample or export;
 * `info` names the labels and the runs; every command that finishes names the likely next one
 * (and that command works when run as printed); `sample` makes the Gallery's images by default;
 * the TF.js export's printed hint runs as printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { MetricsStore } from '../../../core/store/metrics.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { projectWithCheckpoint, tempDir } from '../../helpers/gallery.js';

const REPO = new URL('../../../', import.meta.url).pathname;
const BIN = join(REPO, 'bin/atelier.js');

function atelier(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, ATELIER_BACKEND: 'wasm' } });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** The `Next: …` line of a command's text output (the command alone, without the note after two spaces). */
function nextLine(out: string): string {
  const line = out.split('\n').find((l) => l.startsWith('Next: '));
  assert.ok(line, `a Next: line in\n${out}`);
  return line.slice('Next: '.length).split('  ')[0]!;
}

/** Argument words of a printed `atelier …` command (the helper quotes only paths with odd characters; these have none). */
const words = (command: string): string[] => {
  assert.match(command, /^atelier /);
  return command.split(' ').slice(1);
};

/** Distinct 24×24 pictures: a gradient per index, so no two are near-duplicates. */
async function writeImages(dir: string, names: string[], offset: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const [i, name] of names.entries()) {
    const k = offset + i;
    const px = Buffer.alloc(24 * 24 * 3);
    for (let y = 0; y < 24; y++) for (let x = 0; x < 24; x++) {
      const o = (y * 24 + x) * 3;
      px[o] = ((x * (k + 3) * 11) ^ (y * 7 * (k + 1))) & 255;
      px[o + 1] = (k % 2 === 0 ? x * 10 : y * 10) & 255;
      px[o + 2] = ((x + y) * (k + 5) * 3) & 255;
    }
    await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(join(dir, name));
  }
}

test('new → import → runs/info → sample → export: each names the next command, and the next command works', async (t) => {
  const dir = tempDir(t, 'atelier-cli-hints-');
  // A project with run 1 (paused, one checkpoint of a small random 16² generator).
  const fx = await projectWithCheckpoint(t, dir, { name: 'pets' });
  fx.project.close();

  // `new` names the import.
  const made = atelier(['new', 'fresh'], dir);
  assert.equal(made.code, 0, made.err);
  assert.equal(nextLine(made.out), 'atelier import fresh.atelier FOLDER');

  // `import` names training (two label folders).
  await writeImages(join(dir, 'src', 'cats'), ['a.png', 'b.png', 'c.png'], 0);
  await writeImages(join(dir, 'src', 'dogs'), ['d.png', 'e.png'], 10);
  const imported = atelier(['import', 'pets.atelier', 'src', '--labels', 'folders', '--resolution', '16'], dir);
  assert.equal(imported.code, 0, imported.err);
  assert.match(imported.out, /5 imported/);
  assert.equal(nextLine(imported.out), 'atelier train pets.atelier --preset baseline');

  // Run 2: finished, evaluated, with a best checkpoint; run 1 stays paused.
  const project = Project.open(fx.path);
  const runs = new RunStore(project.db);
  const run1 = runs.getRun(fx.runId)!;
  const cp1 = runs.getCheckpoint(fx.checkpointId)!;
  const run2 = runs.createRun('Run 2 · ada', 'ada', run1.config, 2);
  const a = runs.saveCheckpoint(run2.id, { kimg: 1, step: 125, weights: cp1.weights, state: cp1.state });
  const b = runs.saveCheckpoint(run2.id, { kimg: 2, step: 250, weights: cp1.weights, state: cp1.state });
  runs.reportTick(run2.id, 2, {});
  runs.markBest(run2.id, a);
  runs.setStatus(run2.id, 'done');
  const metrics = new MetricsStore(project.db);
  const evaluation = { runId: run2.id, source: 'training' as const, extractor: 'inception', reference: false, realCount: 5, fakeCount: 5, seconds: 1 };
  metrics.addEvaluation({ ...evaluation, checkpointId: a, kimg: 1, metrics: { 'Metrics/kid': 0.0123, 'Metrics/kid_std': 0.002 } });
  metrics.addEvaluation({ ...evaluation, checkpointId: b, kimg: 2, metrics: { 'Metrics/kid': 0.05 } });
  project.close();

  // `runs --json`: newest first, the fields a user needs; the paused run is what comes next.
  const listed = atelier(['runs', 'pets.atelier', '--json'], dir);
  assert.equal(listed.code, 0, listed.err);
  const doc = JSON.parse(listed.out) as { runs: Array<Record<string, unknown>>; next: string };
  assert.deepEqual(
    doc.runs.map((r) => [r.id, r.preset, r.status, r.kimgDone, r.checkpoints]),
    [
      [run2.id, 'ada', 'done', 2, 2],
      [fx.runId, 'baseline', 'paused', 0.32, 1],
    ],
  );
  assert.deepEqual(doc.runs[0]!.quality, { metric: 'kid', value: 0.0123, kimg: 1, checkpointId: a }, 'quality at the best snapshot, not the newest evaluation');
  assert.deepEqual(doc.runs[0]!.checkpoint, { id: a, kimg: 1, best: true });
  assert.equal(doc.runs[1]!.quality, null);
  assert.deepEqual(doc.runs[1]!.checkpoint, { id: fx.checkpointId, kimg: 0.32, best: false });
  assert.equal(doc.next, `atelier train pets.atelier --resume ${fx.runId}`);

  const text = atelier(['runs', 'pets.atelier'], dir);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^2 runs in .*pets\.atelier, newest first:/);
  assert.match(text.out, new RegExp(`run ${run2.id} {2}"Run 2 · ada" {2}ada · done · 2 of 2 kimg · KID 0\\.0123 at 1 kimg · checkpoint ${a} at 1 kimg \\(best\\)`));
  assert.match(text.out, new RegExp(`run ${fx.runId} .* baseline · paused · 0\\.32 of 1 kimg · not evaluated · checkpoint ${fx.checkpointId} at 0\\.32 kimg \\(newest\\)`));
  assert.equal(nextLine(text.out), `atelier train pets.atelier --resume ${fx.runId}`);

  // `info`: label names with their counts, the runs, the next command (text and JSON).
  const info = JSON.parse(atelier(['info', 'pets.atelier', '--json'], dir).out) as { labels: unknown; runs: Array<{ id: number }>; next: string };
  assert.deepEqual(info.labels, [
    { name: 'cats', images: 3 },
    { name: 'dogs', images: 2 },
  ]);
  assert.deepEqual(
    info.runs.map((r) => r.id),
    [run2.id, fx.runId],
  );
  assert.equal(info.next, doc.next);
  const infoText = atelier(['info', 'pets.atelier'], dir).out;
  assert.match(infoText, /labels: cats \(3\), dogs \(2\)/);
  assert.match(infoText, new RegExp(`run ${run2.id} .*KID 0\\.0123`));

  // An empty project names the import; `runs` on it says there are none.
  const empty = atelier(['runs', 'fresh.atelier'], dir);
  assert.match(empty.out, /^No runs yet in .*fresh\.atelier\.\nNext: atelier import fresh\.atelier FOLDER$/);

  // `sample` as `runs` would suggest for run 2: ψ 0.7 by default (the Gallery's), then names the export.
  const sampled = atelier(['sample', 'pets.atelier', '--run', String(run2.id), '--seeds', '0-1', '--out', 'pets-run-2-samples'], dir);
  assert.equal(sampled.code, 0, sampled.err);
  assert.match(sampled.out, /Wrote 2 images of "Run 2 · ada at 1 kimg" \(ψ 0\.7\)/);
  const manifest = JSON.parse(readFileSync(join(dir, 'pets-run-2-samples', 'manifest.json'), 'utf8')) as { images: Array<{ psi: number }> };
  assert.ok(manifest.images.every((i) => i.psi === 0.7), 'the images were made at ψ 0.7');
  const exportCommand = nextLine(sampled.out);
  assert.equal(exportCommand, `atelier export pets.atelier --run ${run2.id} --format html`);
  const exported = atelier(words(exportCommand), dir);
  assert.equal(exported.code, 0, exported.err);
  assert.ok(existsSync(join(dir, 'pets-exports', 'pets-html', 'index.html')), `the default: a plain-named folder beside the project file\n${exported.out}`);
});

test("sample's ψ default is the Gallery's", async () => {
  const { GALLERY_PSI } = await import('../../../core/cli/sample-command.js');
  const gallery = readFileSync(join(REPO, 'renderer/src/lib/state/gallery.svelte.ts'), 'utf8');
  const m = /\bpsi = \$state\(([\d.]+)\)/.exec(gallery);
  assert.ok(m, 'the Gallery state declares its ψ');
  assert.equal(GALLERY_PSI, Number(m[1]));
});

test('the TF.js export hint works as printed: npm install, then node load-node.mjs; without the install the loader says what to do', async (t) => {
  const dir = tempDir(t, 'atelier-cli-tfjs-');
  const fx = await projectWithCheckpoint(t, dir, { name: 'tiny' });
  fx.project.close();
  const r = atelier(['export', 'tiny.atelier', '--run', String(fx.runId), '--format', 'tfjs', '--out', join(dir, 'tiny-tfjs')], dir);
  assert.equal(r.code, 0, r.err);
  const m = /In Node: (.*?); in a page/.exec(r.out);
  assert.ok(m, r.out);
  const hint = m[1]!;
  assert.equal(hint, `cd ${join(dir, 'tiny-tfjs')} && npm install && node load-node.mjs 0 1 2`);
  const folder = join(dir, 'tiny-tfjs');
  const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { type: string; dependencies: Record<string, string> };
  const studioTfjs = (JSON.parse(readFileSync(join(REPO, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8')) as { version: string }).version;
  assert.deepEqual(pkg.dependencies, { '@tensorflow/tfjs': studioTfjs }, 'npm install gets the tfjs the studio runs');
  assert.equal(pkg.type, 'module');

  // Before `npm install`: the loader names the fix instead of ERR_MODULE_NOT_FOUND's stack.
  const bare = spawnSync('sh', ['-c', `cd ${folder} && node load-node.mjs 0`], { encoding: 'utf8' });
  assert.equal(bare.status, 1);
  assert.match(bare.stderr, /load-node\.mjs needs @tensorflow\/tfjs, which is not installed here\. Run `npm install` in .*tiny-tfjs\/? once/);
  assert.doesNotMatch(bare.stderr, /ERR_MODULE_NOT_FOUND/);

  // The hint as printed, with `npm` answered offline by a stand-in that installs what package.json names
  // from the studio's own node_modules (a real `npm install` needs the registry; see the report).
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'npm'),
    `#!/bin/sh\n[ "$1" = install ] || exit 9\nnode -e "const d=require('./package.json').dependencies['@tensorflow/tfjs']; if (d !== '${studioTfjs}') process.exit(8)" || exit 8\nmkdir -p node_modules/@tensorflow && ln -s ${REPO}node_modules/@tensorflow/tfjs node_modules/@tensorflow/tfjs\n`,
  );
  chmodSync(join(bin, 'npm'), 0o755);
  const run = spawnSync('sh', ['-c', hint], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(
    run.stdout.trim().split('\n').map((l) => l.replace(/mean pixel [\d.]+/, 'mean pixel M')),
    [0, 1, 2].map((s) => `seed ${s}: 16×16 rgb, mean pixel M`),
  );
});

test('exports default beside the project file, never inside a folder images were imported from; names are plain', async () => {
  const { exportFolderFor } = await import('../../../core/service/paths.js');
  const { plainFileName } = await import('../../../core/api/vocabulary.js');
  assert.equal(exportFolderFor('/data/Emoji Set.atelier', ['/data/emoji']), '/data/Emoji-Set-exports');
  // The project sits inside the folder it imported: the exports go beside that folder instead.
  assert.equal(exportFolderFor('/data/emoji/emoji.atelier', ['/data/emoji', '/data/emoji/people']), '/data/emoji-exports');
  assert.equal(exportFolderFor('/data/emoji/sub/p.atelier', ['/data/emoji/sub', '/data/emoji']), '/data/p-exports');
  assert.equal(plainFileName('Run 1 · ada at 1.2 kimg walk'), 'Run-1-ada-at-1.2-kimg-walk');
  assert.equal(plainFileName('  ·  '), 'export');
  assert.equal(plainFileName('Café crème/..'), 'Café-crème');
});
