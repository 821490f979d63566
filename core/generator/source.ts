/**
 * What the gallery samples, read from the project file: a model (its own weights and meta) or a
 * run's checkpoint (its G_ema, and a meta made from the run's config). No TF.js tensors here: the
 * sampling worker builds the Generator from what this returns.
 */
import type Database from 'better-sqlite3';
import type { GallerySource } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { ModelStore } from '../store/models.js';
import { RunStore } from '../store/runs.js';
import type { TrainConfig } from '../train/config.js';
import { checkpointState } from '../train/checkpoint-state.js';
import type { NamedArray } from '../nets/checkpoint-format.js';
import { emaTensors } from './weights.js';
import { type GeneratorMeta, metaFromCheckpoint, parseGeneratorMeta, type TrainingSummary } from './meta.js';

export interface LoadedSource {
  source: GallerySource;
  /** "Faces, 40 kimg" or "Run 3 · baseline at 12.8 kimg". */
  label: string;
  meta: GeneratorMeta;
  model: { id: number; name: string } | null;
  run: { id: number; name: string } | null;
  checkpoint: { id: number; kimg: number; step: number } | null;
}

/**
 * A generator's weights as `buildGenerator` takes them: a model row's (encoded), or a checkpoint's
 * G_ema tensors already decoded and renamed 'G.…' (views into the decoded checkpoint: build from
 * them, do not keep them).
 */
export type GeneratorWeights = Uint8Array | ReadonlyMap<string, NamedArray>;

const kimgText = (kimg: number): string => String(Math.round(kimg * 1000) / 1000);

export function sourceKey(s: GallerySource): string {
  return s.kind === 'model' ? `model:${s.modelId}` : `checkpoint:${s.checkpointId}`;
}

/** Each metric series' last value at or before `kimg`. */
export function metricsAt(runs: RunStore, runId: number, kimg: number): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [name, points] of Object.entries(runs.metricSeries(runId))) {
    let value: number | null | undefined;
    for (const [k, v] of points) if (k <= kimg + 1e-9) value = v;
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The meta of a checkpoint's generator, with the training summary and metrics at that point (and the config it trained with). */
export function checkpointMeta(db: Database.Database, checkpointId: number): { meta: GeneratorMeta; tensors: NamedArray[]; runName: string; kimg: number; step: number; runId: number; config: TrainConfig } {
  const runs = new RunStore(db);
  const cp = runs.getCheckpoint(checkpointId);
  if (!cp) throw new UserError('not-found', `There is no checkpoint ${checkpointId} in this project (pruned or deleted?). Pick another in the Gallery's source list.`);
  const run = runs.getRun(cp.runId);
  const runName = run?.name ?? `run ${cp.runId}`;
  const what = `The checkpoint of "${runName}" at ${kimgText(cp.kimg)} kimg`;
  const state = checkpointState(cp.state, what);
  const images = (db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
  const training: TrainingSummary = {
    preset: state.config.preset,
    kimg: cp.kimg,
    step: cp.step,
    seed: state.config.seed,
    batch: state.config.batch,
    backend: state.backend,
    datasetImages: images,
    metrics: metricsAt(runs, cp.runId, cp.kimg),
  };
  const meta = metaFromCheckpoint({
    net: state.config.net,
    classNames: state.classNames,
    source: { kind: 'checkpoint', runId: cp.runId, runName, checkpointId, kimg: cp.kimg, step: cp.step },
    training,
  });
  return { meta, tensors: emaTensors(cp.weights, what), runName, kimg: cp.kimg, step: cp.step, runId: cp.runId, config: state.config };
}

/** Reads a source's generator from the project file. */
export function loadSource(db: Database.Database, source: GallerySource): LoadedSource & { weights: GeneratorWeights } {
  if (source.kind === 'model') {
    const models = new ModelStore(db);
    const row = models.require(source.modelId);
    const meta = parseGeneratorMeta(JSON.parse(row.metadata), `The model "${row.name}"`);
    const s = meta.source;
    return {
      source,
      label: row.name,
      meta,
      weights: models.weights(row.id),
      model: { id: row.id, name: row.name },
      run: s.kind === 'checkpoint' ? { id: s.runId, name: s.runName } : null,
      checkpoint: s.kind === 'checkpoint' ? { id: s.checkpointId, kimg: s.kimg, step: s.step } : null,
    };
  }
  const c = checkpointMeta(db, source.checkpointId);
  return {
    source,
    label: `${c.runName} at ${kimgText(c.kimg)} kimg`,
    meta: c.meta,
    weights: new Map(c.tensors.map((t) => [t.name, t])),
    model: null,
    run: { id: c.runId, name: c.runName },
    checkpoint: { id: source.checkpointId, kimg: c.kimg, step: c.step },
  };
}
