/**
 * Gallery benchmark: time to first image and images/s of the sampling worker — the path the
 * Gallery and `atelier sample` use (worker process, mapping → ψ → synthesis with constant noise →
 * pixels → PNG → IPC) — per backend and resolution, for a generator of the studio's CPU-default
 * capacity (core/train/config.ts) with random weights (speed does not depend on training).
 * Prints one JSON document on stdout (progress on stderr).
 *
 *   node --import tsx bench/gallery.ts [--backends wasm,cpu] [--sizes 64,256] [--budget-s 60]
 *
 *   coldStartMs    worker start → backend up → generator loaded (opening a generator in the Gallery)
 *   firstImageMs   a page of seeds asked for → its first image back (generator loaded; the grid
 *                  after a scroll or a ψ change). Median of 3.
 *   imagesPerSec   a page of seeds, asked for at once, over the time to the last image
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampleSpec } from '../core/api/contract.js';
import { selectBackend } from '../core/backend/select.js';
import { SamplerClient } from '../core/gallery/sampler-client.js';
import { defaultBatch } from '../core/generator/sampler.js';
import { channelsAt } from '../core/nets/config.js';
import { Generator } from '../core/nets/generator.js';
import { Project } from '../core/store/project.js';
import { RunStore } from '../core/store/runs.js';
import { encodeTensors, readNamed } from '../core/nets/checkpoint-format.js';
import { resolveTrainConfig } from '../core/train/config.js';

interface Options {
  backends: string[];
  sizes: number[];
  budgetS: number;
}

function parseOptions(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    backends: (get('backends') ?? 'wasm,cpu').split(',').filter(Boolean),
    sizes: (get('sizes') ?? '64,256').split(',').map(Number),
    budgetS: Number(get('budget-s') ?? 60),
  };
}

const log = (line: string): void => void process.stderr.write(`[bench gallery] ${line}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A project with one checkpoint of a random CPU-default generator at `resolution`². */
async function makeProject(dir: string, resolution: number): Promise<{ path: string; checkpointId: number; params: number; channels: Record<string, number> }> {
  const config = resolveTrainConfig({ preset: 'baseline', kimg: 1 }, { images: 500, resolution, channels: 3, numClasses: 0 }, 'cpu');
  const G = new Generator(config.net);
  const named = await readNamed(G.params.all().map((p) => ({ name: `G_ema.${p.name.replace(/^G\./, '')}`, tensor: p.variable })));
  const params = G.params.countTrainable();
  G.dispose();
  const path = join(dir, `bench-${resolution}.atelier`);
  const project = Project.create(path, 'bench', { appVersion: 'bench' });
  const runs = new RunStore(project.db);
  const run = runs.createRun('bench', 'baseline', config, 1);
  const state = { format: 1, loop: { step: 0, nimg: 0, dSteps: 0, rng: [1, 2, 3, 4], data: null, augment: null, optimizers: {} }, config, classNames: [], backend: 'bench' };
  const checkpointId = runs.saveCheckpoint(run.id, { kimg: 0, step: 0, weights: encodeTensors(named), state });
  project.close();
  const channels: Record<string, number> = {};
  for (let r = 4; r <= resolution; r *= 2) channels[String(r)] = channelsAt(config.net, r);
  return { path, checkpointId, params, channels };
}

async function measure(backend: string, resolution: number, project: { path: string; checkpointId: number }, budgetS: number) {
  const source = { kind: 'checkpoint' as const, checkpointId: project.checkpointId };
  const client = new SamplerClient(project.path, { backend });
  try {
    // Cold: worker, backend, generator.
    let t0 = performance.now();
    await client.request({ op: 'open', source }).done;
    const coldStartMs = Math.round(performance.now() - t0);
    let seed = 0;
    const page = (n: number): SampleSpec[] => Array.from({ length: n }, () => ({ kind: 'seed', seed: seed++, psi: 0.7, classIndex: null }));
    /** Renders specs; `firstOnly`: cancels the rest once the first image is in (as a grid scrolled on). */
    const run = async (specs: SampleSpec[], firstOnly = false): Promise<{ first: number; last: number }> => {
      const start = performance.now();
      let first = 0;
      let last = 0;
      const r = client.request(
        { op: 'render', source, specs },
        {
          onItem: () => {
            const t = performance.now() - start;
            if (first === 0) {
              first = t;
              if (firstOnly) client.cancel(r.id);
            }
            last = t;
          },
        },
      );
      await r.done;
      return { first, last };
    };
    // Warm-up (first kernels compile/allocate), then time to first image of a 12-seed page.
    await run(page(1));
    const firsts: number[] = [];
    for (let i = 0; i < 3; i++) firsts.push((await run(page(12), true)).first);
    // Throughput: as many images as fit the budget, at least two batches.
    const batch = defaultBatch(resolution);
    const perImage = Math.max(1, median(firsts));
    const n = Math.max(2 * batch + 1, Math.min(96, Math.floor((budgetS * 1000) / perImage / 2)));
    t0 = performance.now();
    const { last } = await run(page(n));
    const imagesPerSec = n / (last / 1000);
    return { backend: client.backend ?? backend, coldStartMs, firstImageMs: Math.round(median(firsts)), firstImageMsAll: firsts.map(Math.round), imagesPerSec: Math.round(imagesPerSec * 100) / 100, images: n, batch, seconds: Math.round((performance.now() - t0) / 100) / 10 };
  } finally {
    await client.dispose();
  }
}

const o = parseOptions(process.argv.slice(2));
await selectBackend({ prefer: 'wasm' }); // here only to make the random weights
const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-gallery-'));
const results: unknown[] = [];
try {
  for (const resolution of o.sizes) {
    const project = await makeProject(dir, resolution);
    for (const backend of o.backends) {
      log(`${backend} ${resolution}² (${project.params.toLocaleString('en-US')} parameters)…`);
      try {
        const r = await measure(backend, resolution, project, o.budgetS);
        log(`${backend} ${resolution}²: cold ${r.coldStartMs} ms, first image ${r.firstImageMs} ms, ${r.imagesPerSec} images/s`);
        results.push({ resolution, params: project.params, channels: project.channels, ...r });
      } catch (err) {
        results.push({ resolution, backend, error: (err as Error).message });
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  JSON.stringify(
    {
      what: 'sampling worker: time to first image and images/s, CPU-default capacity, random weights, ψ 0.7, PNG-encoded, through IPC',
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage1m: Math.round(loadavg()[0]! * 10) / 10 },
      results,
    },
    null,
    2,
  ),
);
