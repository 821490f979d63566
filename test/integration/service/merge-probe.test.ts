/**
 * `merge.probeSource` through the dispatcher, as the Merge view calls it (browser mode, whose
 * path policy is its root): a studio generator exported to ONNX (3 classes) is read in a
 * short-lived worker — latent input and size, class input, layout and range inferred as the
 * export made them — and its preview strip holds the studio's own images of seeds 0…7 (classes
 * in turn). A correction is applied; a malformed file and a path outside the root are refused with
 * the reason, naming the file.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { OnnxProbeInfo, SampleSpec } from '../../../core/api/contract.js';
import { createDispatcher } from '../../../core/api/dispatch.js';
import { selectBackend } from '../../../core/backend/select.js';
import { SamplerHost } from '../../../core/gallery/sampler-host.js';
import { GrantedPaths, RootedPaths } from '../../../core/service/paths.js';
import { StudioService } from '../../../core/service/studio-service.js';
import { pixelsOf, projectWithCheckpoint, tempDir } from '../../helpers/gallery.js';

const noCtx = { item: () => {}, progress: () => {}, cancelled: () => false };

test('merge.probeSource reads a studio ONNX export: inferred fields, the studio’s images; bad files refused with the reason', async (t) => {
  await selectBackend({ prefer: 'wasm' });
  const root = tempDir(t, 'atelier-merge-probe-');
  const fx = await projectWithCheckpoint(t, root, { numClasses: 3, seed: 5, name: 'cond' });
  const host = new SamplerHost(fx.project.db, 'wasm', 'test');
  t.after(() => host.dispose());
  const model = await host.run({ op: 'promote', runId: fx.runId, checkpointId: fx.checkpointId, name: 'Cond' }, noCtx);
  const source = { kind: 'model' as const, modelId: model.id };
  const onnx = join(root, 'cond.onnx');
  await host.run({ op: 'export', source, format: 'onnx', out: onnx, overwrite: false }, noCtx);
  // The studio's images of seeds 0…7, class i mod 3, ψ 1 (what the probe asks of the file).
  const specs: SampleSpec[] = Array.from({ length: 8 }, (_, i) => ({ kind: 'seed', seed: i, psi: 1, classIndex: i % 3 }));
  const studio: Buffer[] = [];
  await host.run({ op: 'render', source, specs }, { ...noCtx, item: (i, png) => void (studio[i] = Buffer.from(png)) });
  const want = await Promise.all(studio.map((png) => pixelsOf(png))); // each [16, 16, 3]

  const service = new StudioService({ mode: 'browser', appHome: tempDir(t), paths: new RootedPaths(root) });
  t.after(() => service.dispose());
  const call = createDispatcher(service.handlers(), { log: () => undefined });
  const ctx = { transport: 'ws' as const };

  // Inferred from the graph, as the export made it: z [N, 32], class one-hot [N, 3], NHWC, [−1, 1].
  const r = await call('merge.probeSource', { path: onnx }, ctx);
  assert.ok(r.ok, JSON.stringify(r));
  const info = r.value as OnnxProbeInfo;
  assert.equal(info.label, 'cond.onnx');
  assert.deepEqual(info.latent, { name: 'z', size: 32 });
  assert.deepEqual(info.classInput, { name: 'class', kind: 'one-hot', count: 3 });
  assert.deepEqual(info.output, { name: 'image', layout: 'NHWC', resolution: 16, channels: 3 });
  assert.equal(info.range, '[-1,1]');
  assert.deepEqual(info.constants, { psi: 1 });
  assert.ok(info.inferred.some((s) => /value range \[-1,1\] \(its atelier\.json/.test(s)), info.inferred.join('; '));
  assert.ok(info.inferred.some((s) => /layout NHWC/.test(s)), info.inferred.join('; '));

  // The preview: 8 images side by side, each the studio's own (within a grey level).
  assert.deepEqual([info.preview.count, info.preview.resolution], [8, 16]);
  assert.match(info.preview.dataUrl, /^data:image\/png;base64,/);
  const strip = await pixelsOf(info.preview.dataUrl); // [16, 8·16, 3]
  assert.equal(strip.length, 16 * 8 * 16 * 3);
  let worst = 0;
  for (let i = 0; i < 8; i++) {
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16 * 3; x++) worst = Math.max(worst, Math.abs(strip[(y * 8 * 16 + i * 16) * 3 + x]! - want[i]![y * 16 * 3 + x]!));
  }
  assert.ok(worst <= 1, `the preview is the studio's images (worst difference ${worst} grey levels)`);

  // A correction is applied: read as [0, 1], the same values come out brighter and the field says so.
  const corrected = await call('merge.probeSource', { path: onnx, options: { range: '[0,1]' } }, ctx);
  assert.ok(corrected.ok, JSON.stringify(corrected));
  const fixedInfo = corrected.value as OnnxProbeInfo;
  assert.equal(fixedInfo.range, '[0,1]');
  assert.ok(!fixedInfo.inferred.some((s) => s.startsWith('value range')), 'a given range is not listed as inferred');
  assert.notEqual(fixedInfo.preview.dataUrl, info.preview.dataUrl);

  // Refused with the reason, naming the file: not ONNX; a class input it does not have; outside the root.
  const broken = join(root, 'broken.onnx');
  writeFileSync(broken, 'this is not an ONNX model');
  const bad = await call('merge.probeSource', { path: broken }, ctx);
  assert.ok(!bad.ok);
  assert.match(bad.error.message, /broken\.onnx cannot be used as a merge source: ONNX Runtime cannot load it \(.+\)\. Check that it is an \.onnx file/);
  const wrong = await call('merge.probeSource', { path: onnx, options: { latentSize: 7 } }, ctx);
  assert.ok(!wrong.ok);
  assert.match(wrong.error.message, /cond\.onnx .*takes 32 values, not the 7 given\. Set the latent size to 32/);
  const outside = await call('merge.probeSource', { path: join(tempDir(t), 'g.onnx') }, ctx);
  assert.equal(!outside.ok && outside.error.code, 'forbidden');
});

test('desktop: an ONNX file is read only once chosen in the native dialog (dialog.pickMergeSource)', async (t) => {
  const dir = tempDir(t, 'atelier-merge-probe-desktop-');
  const file = join(dir, 'made-elsewhere.onnx');
  writeFileSync(file, 'not a model either');
  let picked: string | null = file;
  const service = new StudioService({ mode: 'desktop', appHome: tempDir(t), paths: new GrantedPaths(), pickMergeSource: async () => picked });
  t.after(() => service.dispose());
  const call = createDispatcher(service.handlers(), { log: () => undefined });
  const ctx = { transport: 'ipc' as const };
  // Typed, not chosen: refused before anything reads it.
  const typed = await call('merge.probeSource', { path: file }, ctx);
  assert.equal(!typed.ok && typed.error.code, 'forbidden');
  // Chosen: read, and refused for what it is.
  assert.deepEqual(await call('dialog.pickMergeSource', {}, ctx), { ok: true, value: { path: file } });
  const read = await call('merge.probeSource', { path: file }, ctx);
  assert.ok(!read.ok);
  assert.match(read.error.message, /made-elsewhere\.onnx cannot be used as a merge source: ONNX Runtime cannot load it/);
  picked = null;
  assert.deepEqual(await call('dialog.pickMergeSource', {}, ctx), { ok: true, value: { path: null } });
});
