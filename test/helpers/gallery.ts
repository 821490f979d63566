/**
 * Shared by the gallery tests: a real project file with a run and a checkpoint holding a small
 * random generator as its G_ema (no training needed to test sampling and exports), with its
 * tracked w-average and noise strengths moved off their initial values so ψ and the constant
 * noise change the images.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { Generator } from '../../core/nets/generator.js';
import { Project } from '../../core/store/project.js';
import { RunStore } from '../../core/store/runs.js';
import { encodeTensors, readNamed } from '../../core/nets/checkpoint-format.js';
import type { CheckpointState } from '../../core/train/checkpoint-state.js';
import { tinyConfig } from '../unit/train/helpers.js';

export function tempDir(t: TestContext, prefix = 'atelier-gallery-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Fixture {
  project: Project;
  path: string;
  runId: number;
  checkpointId: number;
  classNames: string[];
}

/**
 * A project with one run and one checkpoint of a random `resolution`² generator (z, w 32;
 * `numClasses` classes). The project stays open; close it (or let `t.after` do it).
 */
export async function projectWithCheckpoint(t: TestContext, dir: string, o: { resolution?: number; numClasses?: number; seed?: number; name?: string } = {}): Promise<Fixture> {
  const numClasses = o.numClasses ?? 0;
  const base = tinyConfig({ seed: o.seed ?? 11 }, numClasses);
  const config = { ...base, net: { ...base.net, resolution: o.resolution ?? 16, seed: o.seed ?? 11 } };
  const G = new Generator(config.net);
  tf.tidy(() => {
    G.wAvg.assign(tf.randomNormal([config.net.wDim], 0, 0.5, 'float32', 5));
    for (const p of G.params.all()) if (p.name.endsWith('noise_strength')) p.variable.assign(tf.scalar(0.25));
  });
  const named = await readNamed(G.params.all().map((p) => ({ name: `G_ema.${p.name.replace(/^G\./, '')}`, tensor: p.variable })));
  G.dispose();
  const path = join(dir, `${o.name ?? 'gallery'}.atelier`);
  const project = Project.create(path, o.name ?? 'gallery', { appVersion: 'test' });
  t.after(() => project.close());
  const runs = new RunStore(project.db);
  const run = runs.createRun('Run 1 · baseline', 'baseline', config, 1);
  const classNames = Array.from({ length: numClasses }, (_, i) => `class ${i}`);
  const state: CheckpointState = {
    format: 1,
    loop: { step: 40, nimg: 320, dSteps: 40, rng: [1, 2, 3, 4], data: null, augment: null, optimizers: { G: 40, D: 40 } } as unknown as CheckpointState['loop'],
    config,
    classNames,
    backend: 'wasm',
  };
  runs.reportTick(run.id, 0.32, { 'Loss/G': 1.25, 'Loss/D': 0.5 });
  const checkpointId = runs.saveCheckpoint(run.id, { kimg: 0.32, step: 40, weights: encodeTensors(named), state });
  runs.setStatus(run.id, 'paused');
  return { project, path, runId: run.id, checkpointId, classNames };
}

/** Raw pixels of a PNG (tests compare pixels, not bytes). */
export async function pixelsOf(png: Uint8Array | string): Promise<Buffer> {
  const bytes = typeof png === 'string' ? Buffer.from(png.slice(png.indexOf(',') + 1), 'base64') : Buffer.from(png);
  return sharp(bytes).raw().toBuffer();
}
