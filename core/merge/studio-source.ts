/**
 * Studio generators as merge sources: a model or a run's checkpoint in the project (read as the
 * gallery reads them: core/generator/source.ts, weights.ts), or a TF.js export made by the
 * studio (read as Models → Import reads it: core/export/model-import.ts). Each is sampled through
 * G_ema with its constant noise, as the gallery and every export sample it. A source from this
 * project's runs also brings the discriminator trained with it, which rooting needs.
 */
import type Database from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../api/errors.js';
import { buildGenerator } from '../generator/weights.js';
import type { GeneratorMeta } from '../generator/meta.js';
import { loadSource } from '../generator/source.js';
import { readTfjsExport } from '../export/model-import.js';
import { oneHotLabels } from '../nets/generator.js';
import { ModelStore } from '../store/models.js';
import { RunStore } from '../store/runs.js';
import { decodeTensors, type NamedArray } from '../nets/checkpoint-format.js';
import { type MergeSource, type SourceKind, type SourceNetworks, tensorsSha256 } from './source.js';

const kimgText = (kimg: number): string => String(Math.round(kimg * 1000) / 1000);

/** A studio generator, sampled through G_ema with its constant noise. */
export class StudioSource implements MergeSource {
  readonly resolution: number;
  readonly channels: number;
  readonly zDim: number;
  readonly numClasses: number;
  readonly sha256: string;
  private readonly G;

  constructor(
    readonly kind: SourceKind,
    readonly label: string,
    readonly ref: string,
    readonly networks: SourceNetworks,
    readonly classIndex: number | null,
  ) {
    const net = networks.net;
    this.resolution = net.resolution;
    this.channels = net.imageChannels;
    this.zDim = net.zDim;
    this.numClasses = net.numClasses;
    this.sha256 = tensorsSha256(networks.G);
    this.G = buildGenerator({ net } as GeneratorMeta, networks.G, `The weights of "${label}"`);
  }

  async generate(z: Float32Array, classes: Int32Array | null, n: number): Promise<tf.Tensor4D> {
    return tf.tidy(() => {
      const c = this.numClasses > 0 ? oneHotLabels(Array.from(classes ?? new Int32Array(n)), this.numClasses) : undefined;
      return this.G.generate(tf.tensor2d(z, [n, this.zDim]), c, { noise: 'const' }); // [n, R, R, C]
    });
  }

  dispose(): void {
    this.G.dispose();
  }
}

/** D's tensors ('D.…') of a checkpoint's weights. */
function discriminatorOf(weights: Uint8Array, what: string): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [name, t] of decodeTensors(weights, what)) if (name.startsWith('D.')) out.set(name, { ...t, data: Float32Array.from(t.data) });
  return out;
}

function checkClassIndex(classIndex: number | undefined, meta: Pick<GeneratorMeta, 'net' | 'classNames'>, label: string): number | null {
  if (classIndex === undefined) return null;
  const k = meta.net.numClasses;
  if (k === 0) throw new UserError('invalid-request', `"${label}" has no classes; leave out its class.`);
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= k) {
    throw new UserError('invalid-request', `"${label}" has no class ${classIndex}: its classes are ${meta.classNames.map((c, i) => `${i} ${c}`).join(', ')}.`);
  }
  return classIndex;
}

/** A model of the project (by name or id). Its discriminator: its checkpoint's, else the nearest checkpoint of its run. */
export function openModelSource(db: Database.Database, model: string | number, classIndex?: number): StudioSource {
  const models = new ModelStore(db);
  const row = typeof model === 'number' ? models.get(model) : models.find(model);
  if (!row) {
    const names = models.list().map((m) => `"${m.name}"`);
    throw new UserError('not-found', `There is no model "${model}" in this project. ${names.length > 0 ? `Its models: ${names.join(', ')}.` : 'It has no models yet: promote a checkpoint in the Train view.'}`);
  }
  const loaded = loadSource(db, { kind: 'model', modelId: row.id });
  const what = `The weights of the model "${row.name}"`;
  const G = new Map<string, NamedArray>();
  for (const [name, t] of decodeTensors(loaded.weights as Uint8Array, what)) G.set(name, { ...t, data: Float32Array.from(t.data) });

  let D: Map<string, NamedArray> | null = null;
  let dNote: string;
  const s = loaded.meta.source;
  if (s.kind === 'checkpoint') {
    const runs = new RunStore(db);
    const exact = runs.getCheckpoint(s.checkpointId);
    if (exact) {
      D = discriminatorOf(exact.weights, `The checkpoint of "${s.runName}" at ${kimgText(s.kimg)} kimg`);
      dNote = `its discriminator from "${s.runName}" at ${kimgText(s.kimg)} kimg`;
    } else {
      // Pruned since: the run's checkpoint nearest in training time is the closest D there is.
      const others = runs.getRun(s.runId) ? runs.listCheckpoints(s.runId) : [];
      const near = others.sort((a, b) => Math.abs(a.kimg - s.kimg) - Math.abs(b.kimg - s.kimg))[0];
      if (near) {
        D = discriminatorOf(runs.getCheckpoint(near.id)!.weights, `The checkpoint of "${s.runName}" at ${kimgText(near.kimg)} kimg`);
        dNote = `its discriminator from "${s.runName}" at ${kimgText(near.kimg)} kimg (the checkpoint it was promoted from, at ${kimgText(s.kimg)} kimg, is gone)`;
      } else {
        dNote = `no discriminator: the run "${s.runName}" it came from has no checkpoints left`;
      }
    }
  } else {
    dNote = s.kind === 'import' ? 'no discriminator: it was imported from an export' : 'no discriminator: it is a merged model';
  }
  const networks: SourceNetworks = { net: loaded.meta.net, classNames: loaded.meta.classNames, G, D, dNote };
  return new StudioSource('model', row.name, `model ${row.id}`, networks, checkClassIndex(classIndex, loaded.meta, row.name));
}

/** A run's checkpoint: `checkpointId`, else the run's best, else its newest. G_ema and D. */
export function openRunSource(db: Database.Database, runId: number, checkpointId?: number, classIndex?: number): StudioSource {
  const runs = new RunStore(db);
  const run = runs.getRun(runId);
  if (!run) throw new UserError('not-found', `There is no run ${runId} in this project.`);
  const cps = runs.listCheckpoints(runId);
  if (cps.length === 0) throw new UserError('not-found', `Run ${runId} ("${run.name}") has no checkpoint yet: train it for a while first.`);
  let cp = cps.find((c) => c.isBest) ?? cps[cps.length - 1]!;
  if (checkpointId !== undefined) {
    const wanted = cps.find((c) => c.id === checkpointId);
    if (!wanted) throw new UserError('not-found', `Run ${runId} has no checkpoint ${checkpointId}; it has ${cps.map((c) => `${c.id} (${c.kimg} kimg)`).join(', ')}.`);
    cp = wanted;
  }
  const loaded = loadSource(db, { kind: 'checkpoint', checkpointId: cp.id });
  const G = new Map<string, NamedArray>();
  for (const [name, t] of loaded.weights as ReadonlyMap<string, NamedArray>) G.set(name, { ...t, data: Float32Array.from(t.data) });
  const D = discriminatorOf(runs.getCheckpoint(cp.id)!.weights, `The checkpoint of "${run.name}" at ${kimgText(cp.kimg)} kimg`);
  const label = `${run.name} at ${kimgText(cp.kimg)} kimg`;
  const networks: SourceNetworks = { net: loaded.meta.net, classNames: loaded.meta.classNames, G, D, dNote: `its discriminator from the same checkpoint` };
  return new StudioSource('run', label, `run ${runId}, checkpoint ${cp.id}`, networks, checkClassIndex(classIndex, loaded.meta, label));
}

/** A TF.js export made by the studio (its folder, model.json or atelier.json): a generator without D. */
export async function openTfjsSource(path: string, classIndex?: number): Promise<StudioSource> {
  const imported = await readTfjsExport(path);
  const networks: SourceNetworks = {
    net: imported.meta.net,
    classNames: imported.meta.classNames,
    G: imported.tensors,
    D: null,
    dNote: 'no discriminator: an export carries only the generator',
  };
  return new StudioSource('tfjs', imported.name, imported.dir, networks, checkClassIndex(classIndex, imported.meta, imported.name));
}
