/**
 * Editing labels after the import, and the StyleGAN2-ADA archive (`atelier export --format
 * dataset`): names, class indices, `"labels": null` when anything is unlabelled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { strFromU8, unzipSync } from 'fflate';
import sharp from 'sharp';
import { createDispatcher } from '../../../core/api/dispatch.js';
import { exportDatasetZip } from '../../../core/export/dataset-zip.js';
import { StudioService } from '../../../core/service/studio-service.js';
import { RootedPaths } from '../../../core/service/paths.js';
import { newProject, put, runImport, storedImages, tempDir } from '../../helpers/data.js';

const ATELIER = join(import.meta.dirname, '../../../bin/atelier.js');
const run = promisify(execFile);

const colours = { a: ['#d00000', '#00d000', '#0000d0'], b: ['#d0d000', '#00d0d0', '#d000d0'] };

async function folders(dir: string): Promise<void> {
  for (const [label, list] of Object.entries(colours)) {
    for (const [i, hex] of list.entries()) {
      // Distinct pictures: a colour and a shape that moves.
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="${hex}"/><circle cx="${8 + i * 12}" cy="${30 - i * 10}" r="7" fill="#fff"/></svg>`;
      put(join(dir, label, `${i}.png`), await sharp(Buffer.from(svg)).png().toBuffer());
    }
  }
}

test('relabel, rename (merging), remove; then the dataset archive in StyleGAN2-ADA layout through the CLI', async (t) => {
  const p = newProject(t);
  const src = join(p.dir, 'src');
  await folders(src);
  const report = await runImport(p, [src], { resolution: 32 }, { labels: 'folders' });
  assert.equal(report.imported, 6);
  const ids = storedImages(p).map((r) => r.id);

  p.store.relabel([ids[0]!], 'special');
  p.store.remove([ids[5]!]);
  let stats = p.store.stats();
  assert.deepEqual(stats.labels.map((l) => [l.name, l.count, l.classIndex]), [['a', 2, 0], ['b', 2, 1], ['special', 1, 2]]);
  const a = stats.labels.find((l) => l.name === 'a')!;
  p.store.renameLabel(a.id, 'b'); // onto an existing name: the two merge
  stats = p.store.stats();
  assert.deepEqual(stats.labels.map((l) => [l.name, l.count, l.classIndex]), [['b', 4, 0], ['special', 1, 1]]);
  assert.equal(stats.images, 5);

  const out = join(p.dir, 'dataset.zip');
  const { stdout } = await run(process.execPath, [ATELIER, 'export', p.path, '--format', 'dataset', '--out', out, '--json']);
  const doc = JSON.parse(stdout) as { ok: boolean; images: number; labelled: boolean; classes: string[] };
  assert.deepEqual([doc.ok, doc.images, doc.labelled, doc.classes], [true, 5, true, ['b', 'special']]);
  const zip = unzipSync(readFileSync(out));
  assert.deepEqual(Object.keys(zip).sort(), ['00000/img00000000.png', '00000/img00000001.png', '00000/img00000002.png', '00000/img00000003.png', '00000/img00000004.png', 'dataset.json']);
  const meta = JSON.parse(strFromU8(zip['dataset.json']!)) as { labels: Array<[string, number]> };
  assert.deepEqual(meta.labels.map(([, c]) => c), [1, 0, 0, 0, 0], 'the relabelled first image is class 1 ("special"); the rest class 0 ("b")');
  for (const [name] of meta.labels) {
    const m = await sharp(Buffer.from(zip[name]!)).metadata();
    assert.deepEqual([m.width, m.height, m.channels], [32, 32, 3], `${name} is a 32² RGB PNG, as train.py expects`);
  }

  const again = await run(process.execPath, [ATELIER, 'export', p.path, '--format', 'dataset', '--out', out]).then(
    () => assert.fail('expected a refusal'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists.*--force/);
  await run(process.execPath, [ATELIER, 'export', p.path, '--format', 'dataset', '--out', out, '--force']);

  const onnx = await run(process.execPath, [ATELIER, 'export', p.path, '--format', 'onnx', '--out', join(p.dir, 'g.onnx')]).then(
    () => assert.fail('expected a refusal'),
    (e: { stderr: string }) => e,
  );
  assert.match(onnx.stderr, /--format onnx exports a generator: name it with --model NAME or --run RUN/);

  // One image without a label: like dataset_tool.py, the archive has no labels at all.
  p.store.relabel([ids[1]!], null);
  const unlabelled = await exportDatasetZip(p.store, join(p.dir, 'mixed.zip'));
  assert.equal(unlabelled.labelled, false);
  assert.deepEqual(JSON.parse(strFromU8(unzipSync(readFileSync(join(p.dir, 'mixed.zip')))['dataset.json']!)), { labels: null });
});

test('the API checks its requests: no project, bad page sizes, paths outside the served folder', async (t) => {
  const root = tempDir(t);
  const service = new StudioService({ mode: 'browser', appHome: tempDir(t), paths: new RootedPaths(root) });
  t.after(() => service.dispose());
  const call = createDispatcher(service.handlers(), { log: () => undefined });
  const ctx = { transport: 'ws' as const };
  const noProject = await call('dataset.stats', {}, ctx);
  assert.equal(!noProject.ok && noProject.error.code, 'no-project');
  assert.ok((await call('project.create', { path: join(root, 'p') }, ctx)).ok);
  const big = await call('dataset.page', { offset: 0, limit: 5000 }, ctx);
  assert.equal(!big.ok && big.error.code, 'invalid-request');
  const res = await call('dataset.import', { sources: [root], settings: { resolution: 300 } }, ctx);
  assert.equal(!res.ok && res.error.code, 'invalid-request');
  assert.match(!res.ok ? res.error.message : '', /power of two/);
  const out = await call('dataset.export', { out: '/tmp/elsewhere.zip' }, ctx);
  assert.equal(!out.ok && out.error.code, 'forbidden');
  const empty = await call('dataset.export', { out: join(root, 'd.zip') }, ctx);
  assert.match(!empty.ok ? empty.error.message : '', /dataset is empty: import images first/);
  const stats = await call('dataset.stats', {}, ctx);
  assert.ok(stats.ok);
  assert.deepEqual(stats.value, { images: 0, settings: null, labels: [], unlabelled: 0, duplicatesDropped: 0, removed: 0, skipped: [], skippedByCode: [], importing: null, lastImport: null });
});
