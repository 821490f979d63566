/**
 * The first hour, measured: a default CPU run (the studio's CPU sizes, its default duration for
 * the resolution, default evaluations: MobileNetV2, 10% budget) on N Twemoji, in-process on wasm.
 * Prints one JSON document: speed per tick, each evaluation's quality (0–100) and KID with the
 * scale's ends, the share of time spent evaluating, and where the preview grids were written
 * (to look at: when do samples become recognisable?).
 *
 *   node --import tsx bench/first-hour.ts [--images 2000] [--resolution 16] [--kimg K] [--out DIR]
 *        [--channel-base N --channel-max N] [--preset baseline|ada]   (another capacity or preset than the default's)
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TrainProgress } from '../core/api/contract.js';
import { selectBackend } from '../core/backend/select.js';
import { startImport } from '../core/data/import-job.js';
import { JobManager } from '../core/jobs/job-manager.js';
import { MetricsStore } from '../core/store/metrics.js';
import { Project } from '../core/store/project.js';
import { RunStore } from '../core/store/runs.js';
import { defaultKimg, resolveTrainConfig, type TrainConfig } from '../core/train/config.js';
import { trainSession } from '../core/session/train-session.js';

const EMOJI = join(import.meta.dirname, '../node_modules/emoji-datasource-twitter/img/twitter/64');
const { values: a } = parseArgs({ options: { images: { type: 'string', default: '2000' }, resolution: { type: 'string', default: '16' }, kimg: { type: 'string' }, out: { type: 'string', default: '/tmp/first-hour' }, 'channel-base': { type: 'string' }, 'channel-max': { type: 'string' }, preset: { type: 'string', default: 'baseline' } } });
const images = Number(a.images);
const resolution = Number(a.resolution);
const kimg = a.kimg ? Number(a.kimg) : defaultKimg(resolution, 'cpu');
mkdirSync(a.out!, { recursive: true });

await selectBackend({ prefer: 'wasm' });
const dir = mkdtempSync(join(tmpdir(), 'atelier-first-hour-'));
mkdirSync(join(dir, 'src'));
// Every n-th emoji of the set, for variety (the set is in category order).
const all = readdirSync(EMOJI).filter((n) => n.endsWith('.png')).sort();
const step = Math.max(1, Math.floor(all.length / images));
for (const f of all.filter((_, i) => i % step === 0).slice(0, images)) copyFileSync(join(EMOJI, f), join(dir, 'src', f));
const project = Project.create(join(dir, 'b.atelier'), 'b', { appVersion: 'bench' });
const t0 = performance.now();
const report = await (await startImport(new JobManager(project), { sources: [join(dir, 'src')], settings: { resolution } })).done;
const importSeconds = (performance.now() - t0) / 1000;
const runs = new RunStore(project.db);
const advanced = { ...(a['channel-base'] ? { channelBase: Number(a['channel-base']) } : {}), ...(a['channel-max'] ? { channelMax: Number(a['channel-max']) } : {}) };
const config: TrainConfig = resolveTrainConfig({ preset: a.preset!, kimg, advanced }, { images: report.imported, resolution, channels: 3, numClasses: 0 }, 'cpu');
const runId = runs.createRun('bench', a.preset!, config, config.kimg).id;
const ticks: Array<{ kimg: number; imgPerSec: number; eta: number | null; wall: number }> = [];
const logs: string[] = [];
const start = performance.now();
await trainSession({
  db: project.db,
  runId,
  progress: (p: TrainProgress) => {
    if (p.previewId !== undefined) {
      ticks.push({ kimg: p.kimg, imgPerSec: Number(p.imgPerSec.toFixed(1)), eta: p.etaSeconds, wall: Math.round((performance.now() - start) / 1000) });
      const png = runs.getPreview(p.previewId)?.png;
      if (png && ticks.length % 5 === 0) writeFileSync(join(a.out!, `${resolution}px-${p.kimg.toFixed(1)}kimg.png`), png);
    }
    if (p.evaluation) process.stderr.write(`eval at ${p.kimg}: quality ${p.evaluation.metrics['Metrics/quality']?.toFixed(1)} KID ${p.evaluation.metrics['Metrics/kid']}\n`);
  },
  requested: () => null,
  log: (l) => {
    logs.push(l);
    process.stderr.write(`${l}\n`);
  },
});
const wall = (performance.now() - start) / 1000;
const final = runs.getRun(runId)!.config as TrainConfig;
const evaluations = new MetricsStore(project.db).evaluations(runId).map((e) => ({ kimg: e.kimg, quality: e.metrics['Metrics/quality'] ?? null, kid: e.metrics['Metrics/kid'], seconds: Number(e.seconds.toFixed(1)), reals: e.realCount, fakes: e.fakeCount }));
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'first-hour',
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg(), backend: 'wasm' },
      dataset: { images: report.imported, resolution },
      run: { preset: a.preset, kimg, batch: config.batch, channelBase: config.net.channelBase, channelMax: config.net.channelMax, importSeconds: Math.round(importSeconds), wallSeconds: Math.round(wall) },
      anchors: final.metrics.anchors ?? null,
      evaluations,
      ticks,
      previews: a.out,
      evaluationShare: logs.find((l) => /evaluations took/.test(l)) ?? null,
    },
    null,
    2,
  )}\n`,
);
project.close();
rmSync(dir, { recursive: true, force: true });
