/**
 * A merge, run as a resumable state machine over the plan's stages (core/merge/plan.ts):
 * root-d? → root × (N − 1) → average → joint. It does no I/O: the host (a `merge` job's worker,
 * the bench, tests) opens the sources, passes callbacks, and stores what `checkpoint` hands it —
 * a JSON state and named byte blobs — atomically (one transaction). Handing the last stored state
 * and blobs back as `resume` continues at the same stage and step, exactly as if never stopped:
 * a training stage restores its loop (networks, optimisers, random stream, step), a finished
 * stage's output (the rooted networks, the averaged ones) is read from its blob.
 *
 * Blobs (core/nets/checkpoint-format.ts, named tensors):
 *   stage        the training stage under way: TrainingLoop.capture() (G, D, G_ema, Adam moments)
 *   root-d       the root's discriminator trained from scratch ('D.…')
 *   rooted-<i>   source i's rooted networks: G_ema as 'G.…' and D as 'D.…'
 *   merged       the averaged networks made conditional ('G.…', 'D.…')
 *   result       the merged generator: the joint stage's G_ema ('G.…')
 * A checkpoint lists the blobs to put and those no longer needed (drop); the state names all the
 * blobs it needs (`state.blobs`).
 */
import * as tf from '@tensorflow/tfjs';
import type { MergePhaseName, MergeProgressInfo } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { encodePng } from '../data/png.js';
import { LATENT_ALGORITHM } from '../generator/latents.js';
import { type GeneratorMeta, META_FORMAT } from '../generator/meta.js';
import { Discriminator } from '../nets/discriminator.js';
import { Generator, oneHotLabels } from '../nets/generator.js';
import type { NetConfig } from '../nets/config.js';
import { readFloatsAndDispose } from '../backend/read.js';
import { assignNamed, checkTensors, decodeTensors, encodeTensors, type NamedArray, readNamed } from '../nets/checkpoint-format.js';
import type { LoopState, Nets, SnapshotReason, TickInfo } from '../train/loop.js';
import { TrainingLoop } from '../train/loop.js';
import { hashInts } from '../random/rng.js';
import { evaluatePerClass, type PerClassEvaluation } from './evaluate.js';
import type { FeatureSet } from '../metrics/features.js';
import type { FeatureExtractor } from '../metrics/inception.js';
import { checkSameSources, type MergePlan, type MergeSettings, planMerge, type StageKind, stageConfig } from './plan.js';
import { GeneratorSamplingSource } from './sampling-source.js';
import type { MergeSource } from './source.js';
import { averageTensors, collapseToClass, extendClasses } from './surgery.js';

export const MERGE_STATE_FORMAT = 1;

/** One finished stage. */
export interface StageRecord {
  stage: number;
  kind: StageKind;
  source: number | null;
  steps: number;
  kimg: number;
  /** Wall seconds, summed over sessions. */
  seconds: number;
}

/** Everything a merge needs to continue, as JSON. */
export interface MergeState {
  format: typeof MERGE_STATE_FORMAT;
  plan: MergePlan;
  /** Index into plan.stages of the stage under way; plan.stages.length when the merge is done. */
  stage: number;
  /** The training stage's loop at its last checkpoint (null: the stage has not checkpointed yet). */
  loop: LoopState | null;
  /** Seconds the current stage ran up to its last checkpoint. */
  stageSeconds: number;
  done: StageRecord[];
  /** Blobs this state needs. */
  blobs: string[];
}

/** What the host must store, atomically: the state, blobs to put (replacing any of that name), blobs to delete. */
export interface MergeCheckpointWrite {
  state: MergeState;
  put: ReadonlyMap<string, Buffer>;
  drop: readonly string[];
  /** Why now: the merge started, a stage's interval checkpoint, a stage ended, pause, stop. */
  reason: 'start' | SnapshotReason | 'stage-done';
}

/** The last stored state and every blob stored with it (by name). */
export interface MergeResume {
  state: MergeState;
  blobs: ReadonlyMap<string, Uint8Array>;
}

export type MergePhase = MergePhaseName;

/** What runMerge reports: the API's progress (core/api/merge.ts) less what the session adds, with the evaluation as computed. */
export type MergeProgress = Pick<MergeProgressInfo, 'phase' | 'stage' | 'stages' | 'kind' | 'title' | 'source' | 'step' | 'kimg' | 'kimgTotal' | 'fraction' | 'stats'> & {
  evaluation?: PerClassEvaluation;
};

/** Images of one class (a rooting stage: of the source being rooted) at a tick: a PNG strip. */
export interface MergePreview {
  stage: number;
  kind: StageKind;
  kimg: number;
  /** The class shown (rooting: the rooted source's class). */
  classIndex: number;
  className: string;
  png: Buffer;
}

export interface MergeCallbacks {
  progress?(p: MergeProgress): void;
  preview?(p: MergePreview): void | Promise<void>;
  /** Store this atomically before returning; a merge resumed from it continues from here. */
  checkpoint(c: MergeCheckpointWrite): void | Promise<void>;
  /** Asked between steps: null keeps going. */
  requested?(): 'pause' | 'stop' | null;
  log?(line: string): void;
}

export interface MergeOptions {
  /** The opened sources, in the plan's order (openMergeSources). */
  sources: readonly MergeSource[];
  /** Needed to start a merge; a resumed one follows its stored plan. */
  settings?: MergeSettings;
  /** The last stored state and blobs: continue that merge (its plan wins over `settings`). */
  resume?: MergeResume | null;
  callbacks: MergeCallbacks;
  /**
   * Per-class KID against the sources (core/merge/evaluate.ts): of the result at the end, and of
   * G_ema at every `everyCheckpoints`-th interval checkpoint of the joint fine-tune (0, the
   * default: only at the end) — reported as progress `evaluation` (the per-class quality chart).
   */
  evaluation?: { extractor: FeatureExtractor; images: number; everyCheckpoints?: number } | null;
  /** Images per preview strip; default 8 (0: no previews). */
  previewImages?: number;
}

/** The merged generator: a normal generator (store it with `mergedModelRecord`). */
export interface MergeResult {
  meta: GeneratorMeta;
  /** The generator's parameters ('G.…'), in the Generator's order. */
  tensors: Map<string, NamedArray>;
  /** Encoded (core/nets/checkpoint-format.ts), as a model row holds them. */
  weights: Buffer;
  stages: StageRecord[];
  evaluation: PerClassEvaluation | null;
}

export interface MergeOutcome {
  outcome: 'completed' | 'paused' | 'stopped';
  state: MergeState;
  result: MergeResult | null;
}

const tensorsToMap = (list: readonly NamedArray[]): Map<string, NamedArray> => new Map(list.map((t) => [t.name, t]));

function decodeMap(bytes: Uint8Array, what: string): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [name, t] of decodeTensors(bytes, what)) out.set(name, { ...t, data: Float32Array.from(t.data) });
  return out;
}

const pick = (m: ReadonlyMap<string, NamedArray>, prefix: string): Map<string, NamedArray> => new Map([...m].filter(([name]) => name.startsWith(prefix)));

/** Assigns named tensors to a network's parameters (every one must be there, with its shape). */
function load(params: ReadonlyArray<{ name: string; variable: tf.Variable }>, tensors: ReadonlyMap<string, NamedArray>, what: string): void {
  checkTensors(tensors, params.map((p) => ({ name: p.name, shape: p.variable.shape })), what, 'ignore');
  assignNamed(tensors, params);
}

const netParams = (n: Generator | Discriminator): Array<{ name: string; variable: tf.Variable }> => n.params.all().map((p) => ({ name: p.name, variable: p.variable }));

/** Runs (or continues) a merge until it is done or asked to pause or stop. */
export async function runMerge(o: MergeOptions): Promise<MergeOutcome> {
  const cb = o.callbacks;
  const log = cb.log ?? (() => {});
  const sources = o.sources;
  let state: MergeState;
  const blobs = new Map<string, Uint8Array>(o.resume?.blobs ?? []);

  if (o.resume) {
    state = checkState(o.resume.state);
    checkSameSources(state.plan, sources);
    const missing = state.blobs.filter((b) => !blobs.has(b));
    if (missing.length > 0) throw new UserError('corrupt', `The stored merge is missing ${missing.join(', ')}; it cannot continue. Start the merge again.`);
    log(`merge: resuming at stage ${state.stage + 1} of ${state.plan.stages.length}${state.loop ? `, step ${state.loop.step}` : ''}`);
  } else {
    // Everything is checked before anything is trained or written.
    if (o.settings === undefined) throw new Error('runMerge: settings are needed to start a merge');
    const plan = planMerge(sources, o.settings);
    state = { format: MERGE_STATE_FORMAT, plan, stage: 0, loop: null, stageSeconds: 0, done: [], blobs: [] };
    for (const note of plan.notes) log(`merge: ${note}`);
    await cb.checkpoint({ state, put: new Map(), drop: [], reason: 'start' });
  }
  const plan = state.plan;
  const totalKimg = plan.stages.reduce((a, s) => a + s.kimg, 0);
  const kimgBefore = (stage: number): number => plan.stages.slice(0, stage).reduce((a, s) => a + s.kimg, 0);
  let stats: Record<string, number> = {};
  const progress = (p: Partial<MergeProgress> & Pick<MergeProgress, 'phase'>): void => {
    const st = plan.stages[state.stage];
    const kimg = p.kimg ?? (state.loop ? state.loop.nimg / 1000 : 0);
    cb.progress?.({
      stage: state.stage,
      stages: plan.stages.length,
      kind: st?.kind ?? null,
      title: st?.title ?? 'Done',
      source: st?.source ?? null,
      step: p.step ?? state.loop?.step ?? 0,
      kimg,
      kimgTotal: st?.kimg ?? 0,
      fraction: totalKimg > 0 ? Math.min(1, (kimgBefore(state.stage) + kimg) / totalKimg) : 1,
      stats,
      ...p,
    });
  };

  /** Stores `next` with blob changes; the in-memory blob map follows. */
  const commit = async (next: MergeState, put: Map<string, Buffer>, drop: string[], reason: MergeCheckpointWrite['reason']): Promise<void> => {
    for (const k of drop) blobs.delete(k);
    for (const [k, v] of put) blobs.set(k, v);
    next.blobs = [...blobs.keys()].filter((k) => !drop.includes(k)).sort();
    await cb.checkpoint({ state: next, put, drop, reason });
    state = next;
  };

  // The root's networks as rooting sees them: unconditional (a conditional root fixed to its class).
  const rootOwn = (): { G: Map<string, NamedArray>; D: Map<string, NamedArray> | null } => {
    const src = sources[plan.root]!.networks!;
    return src.net.numClasses > 0 ? collapseToClass(src.net, src.G, src.D, sources[plan.root]!.classIndex ?? 0) : { G: src.G, D: src.D };
  };
  // …with its discriminator: its own, or the one stage root-d trained.
  const rootNetworks = (): { G: Map<string, NamedArray>; D: Map<string, NamedArray> } => {
    const own = rootOwn();
    const D = plan.rootD === 'trained' ? pick(decodeMap(blobs.get('root-d')!, 'The stored discriminator of the root'), 'D.') : own.D;
    if (D === null) throw new Error('merge: the root has no discriminator');
    return { G: own.G, D };
  };

  // Per-class evaluation: the sources' features once, then G's classes against them.
  let sourceFeatures: FeatureSet[] | undefined;
  const evaluate = async (G: Generator): Promise<PerClassEvaluation> => {
    const e = o.evaluation!;
    const seed = hashInts(plan.seed, 0x6576);
    const r = await evaluatePerClass(G, sources, sources.map((_, i) => i), plan.classes, { extractor: e.extractor, images: e.images, seed, ...(sourceFeatures ? { sourceFeatures } : {}) });
    sourceFeatures = r.sourceFeatures;
    return r.evaluation;
  };

  while (state.stage < plan.stages.length) {
    const asked = cb.requested?.() ?? null;
    if (asked !== null) return { outcome: asked === 'pause' ? 'paused' : 'stopped', state, result: null };
    const index = state.stage;
    const stage = plan.stages[index]!;
    log(`merge: stage ${index + 1} of ${plan.stages.length}: ${stage.title}`);

    if (stage.kind === 'average') {
      progress({ phase: 'averaging', kimg: 0, step: 0 });
      const t0 = performance.now();
      const merged = averageStage(plan, sources, blobs, rootNetworks);
      const put = new Map([['merged', encodeTensors([...merged.G.values(), ...merged.D.values()])]]);
      const drop = [...blobs.keys()].filter((k) => k.startsWith('rooted-') || k === 'root-d');
      const seconds = (performance.now() - t0) / 1000;
      const next: MergeState = { ...state, stage: index + 1, loop: null, stageSeconds: 0, done: [...state.done, { stage: index, kind: stage.kind, source: null, steps: 0, kimg: 0, seconds }] };
      await commit(next, put, drop, 'stage-done');
      continue;
    }

    const outcome = await trainStage(index);
    if (outcome !== 'completed') return { outcome, state, result: null };
  }

  // Done: the result, from its blob (also when resumed after it was stored).
  const result = await finish();
  progress({ phase: 'done', kimg: 0, step: 0, ...(result.evaluation ? { evaluation: result.evaluation } : {}) });
  return { outcome: 'completed', state, result };

  /** One training stage, from its start or its last checkpoint, to its end (or a pause or stop). */
  async function trainStage(index: number): Promise<'completed' | 'paused' | 'stopped'> {
    const stage = plan.stages[index]!;
    const config = stageConfig(plan, index);
    const joint = stage.kind === 'joint';
    const net: NetConfig = config.net;
    const data = new GeneratorSamplingSource({
      sources: joint ? sources : [sources[stage.source!]!],
      labels: joint ? sources.map((_, i) => i) : null,
      classNames: joint ? plan.classes : [],
      shares: joint ? plan.shares : [1],
      resolution: net.resolution,
      channels: net.imageChannels,
    });
    const nets: Nets = { G: new Generator(net), D: new Discriminator(net), G_ema: new Generator(net) };
    let loop: TrainingLoop | null = null;
    const sessionStart = performance.now();
    // Wall time of the stage: what earlier sessions ran (up to their last checkpoint) plus this one.
    const earlierSeconds = state.stageSeconds;
    let jointCheckpoints = 0;
    try {
      loop = new TrainingLoop(config, data, nets);
      if (state.loop !== null) {
        loop.restore(blobs.get('stage')!, state.loop, `The stored progress of stage ${index + 1} of the merge`);
      } else {
        // The stage's starting weights (G_ema starts as G).
        let G: ReadonlyMap<string, NamedArray>;
        let D: ReadonlyMap<string, NamedArray> | null;
        if (joint) {
          const m = decodeMap(blobs.get('merged')!, 'The stored averaged networks');
          G = pick(m, 'G.');
          D = pick(m, 'D.');
        } else {
          // root-d: D from scratch (as the network initialises it), G from the root.
          const r = stage.kind === 'root-d' ? { ...rootOwn(), D: null } : rootNetworks();
          G = r.G;
          D = r.D;
        }
        load(netParams(nets.G), G, 'The starting generator');
        load(netParams(nets.G_ema), G, 'The starting generator');
        if (D !== null) load(netParams(nets.D), D, 'The starting discriminator');
      }
      const strip = previewStrip(nets.G_ema, plan, stage.kind, stage.source, o.previewImages ?? 8);

      progress({ phase: 'training', step: loop.step, kimg: loop.kimg });
      let lastProgress = 0;
      const l = loop;
      const outcome = await l.run({
        requested: () => cb.requested?.() ?? null,
        stepped: ({ step, kimg }) => {
          if (Date.now() - lastProgress < 1000) return;
          lastProgress = Date.now();
          progress({ phase: 'training', step, kimg });
        },
        tick: async (t: TickInfo) => {
          stats = t.stats;
          progress({ phase: 'training', step: t.step, kimg: t.kimg });
          if (cb.preview) for (const p of await strip.render(t.kimg, index)) await cb.preview(p);
        },
        snapshot: async (reason: SnapshotReason) => {
          progress({ phase: 'saving', step: l.step, kimg: l.kimg });
          const seconds = earlierSeconds + (performance.now() - sessionStart) / 1000;
          if (reason === 'done') {
            const out = await stageOutput(stage.kind, nets);
            const record: StageRecord = { stage: index, kind: stage.kind, source: stage.source, steps: l.step, kimg: l.kimg, seconds };
            const next: MergeState = { ...state, stage: index + 1, loop: null, stageSeconds: 0, done: [...state.done, record] };
            log(`merge: stage ${index + 1} done: ${l.step} steps, ${l.kimg.toFixed(3)} kimg, ${seconds.toFixed(1)} s`);
            await commit(next, out, joint ? ['stage', 'merged'] : ['stage'], 'stage-done');
          } else {
            const { weights, state: loopState } = await l.capture();
            await commit({ ...state, loop: loopState, stageSeconds: seconds }, new Map([['stage', weights]]), [], reason);
            // The per-class quality chart, at every `everyCheckpoints`-th checkpoint of the joint fine-tune.
            const every = o.evaluation?.everyCheckpoints ?? 0;
            if (joint && reason === 'interval' && every > 0 && ++jointCheckpoints % every === 0) {
              progress({ phase: 'evaluating', step: l.step, kimg: l.kimg });
              progress({ phase: 'training', step: l.step, kimg: l.kimg, evaluation: await evaluate(nets.G_ema) });
            }
          }
        },
      });
      strip.dispose();
      if (outcome === 'diverged') {
        const d = l.diverged!;
        throw new UserError('invalid-request', `The merge diverged in stage ${index + 1} (${stage.title}) at ${d.kimg.toFixed(3)} kimg: ${d.stat} became ${d.value}. The last checkpoint is kept; start the merge again with a lower learning rate.`);
      }
      return outcome === 'completed' ? 'completed' : outcome;
    } finally {
      loop?.dispose();
      data.dispose();
      nets.G.dispose();
      nets.D.dispose();
      nets.G_ema.dispose();
    }
  }

  /** A finished stage's output blob. */
  async function stageOutput(kind: StageKind, nets: Nets): Promise<Map<string, Buffer>> {
    const G = (await readNamed(nets.G_ema.params.all().map((p) => ({ name: p.name, tensor: p.variable })))) as NamedArray[];
    const D = await readNamed(nets.D.params.all().map((p) => ({ name: p.name, tensor: p.variable })));
    const index = state.stage;
    const stage = plan.stages[index]!;
    if (kind === 'root-d') return new Map([['root-d', encodeTensors(D)]]);
    if (kind === 'root') return new Map([[`rooted-${stage.source}`, encodeTensors([...G, ...D])]]);
    return new Map([['result', encodeTensors(G)]]);
  }

  /** The result from its blob, with its meta (and the per-class evaluation, if asked). */
  async function finish(): Promise<MergeResult> {
    const tensors = decodeMap(blobs.get('result')!, 'The stored merged generator');
    const stages = state.done;
    const meta = mergedMeta(plan, stages);
    const G = new Generator(plan.mergedNet);
    let evaluation: PerClassEvaluation | null = null;
    try {
      load(netParams(G), tensors, 'The merged generator');
      const ordered = G.params.all().map((p) => tensors.get(p.name)!);
      if (o.evaluation) {
        progress({ phase: 'evaluating', kimg: 0, step: 0 });
        evaluation = await evaluate(G);
      }
      return { meta, tensors: tensorsToMap(ordered), weights: encodeTensors(ordered), stages, evaluation };
    } finally {
      G.dispose();
    }
  }
}

/** The average stage: the networks to fine-tune jointly (G and D, N classes). */
function averageStage(
  plan: MergePlan,
  sources: readonly MergeSource[],
  blobs: ReadonlyMap<string, Uint8Array>,
  rootNetworks: () => { G: Map<string, NamedArray>; D: Map<string, NamedArray> },
): { G: Map<string, NamedArray>; D: Map<string, NamedArray> } {
  const n = plan.sources.length;
  let G: Map<string, NamedArray>;
  let D: Map<string, NamedArray>;
  if (plan.method === 'transfer') {
    ({ G, D } = rootNetworks());
  } else if (plan.method === 'average') {
    // Each source's own networks (a conditional one as its class), averaged: no common ancestor.
    const own = sources.map((s) => {
      const nets = s.networks!;
      return nets.net.numClasses > 0 ? collapseToClass(nets.net, nets.G, nets.D, s.classIndex ?? 0) : { G: nets.G, D: nets.D };
    });
    const labels = sources.map((s) => `"${s.label}"`);
    G = averageTensors(own.map((x) => x.G), labels);
    D = averageTensors(own.map((x) => x.D!), labels);
  } else {
    // The root and every rooted network: one ancestor, one architecture.
    const root = rootNetworks();
    const models = [{ G: root.G, D: root.D, label: `the root "${plan.sources[plan.root]!.label}"` }];
    for (let i = 0; i < n; i++) {
      if (i === plan.root) continue;
      const m = decodeMap(blobs.get(`rooted-${i}`)!, `The stored rooted networks of "${plan.sources[i]!.label}"`);
      models.push({ G: pick(m, 'G.'), D: pick(m, 'D.'), label: `"${plan.sources[i]!.label}" rooted` });
    }
    G = averageTensors(models.map((m) => m.G), models.map((m) => m.label));
    D = averageTensors(models.map((m) => m.D), models.map((m) => m.label));
  }
  const extended = extendClasses(plan.net, G, D, n, hashInts(plan.seed, 0x636c73));
  return { G: extended.G, D: extended.D! };
}

function checkState(value: unknown): MergeState {
  const s = value as Partial<MergeState> | null;
  if (s === null || typeof s !== 'object' || s.format !== MERGE_STATE_FORMAT || s.plan === undefined || !Array.isArray(s.blobs) || typeof s.stage !== 'number') {
    throw new UserError('corrupt', 'The stored merge was written by another version of the studio and cannot be resumed. Start the merge again.');
  }
  return s as MergeState;
}

/** The merged generator's meta: a normal generator whose source lists its sources and stages. */
export function mergedMeta(plan: MergePlan, stages: readonly StageRecord[]): GeneratorMeta {
  return {
    format: META_FORMAT,
    net: plan.mergedNet,
    classNames: [...plan.classes],
    colourMode: plan.mergedNet.imageChannels === 1 ? 'grayscale' : 'rgb',
    noise: 'const',
    latent: { algorithm: LATENT_ALGORITHM, zDim: plan.mergedNet.zDim },
    source: {
      kind: 'merge',
      mergedAt: new Date().toISOString(),
      root: plan.root,
      sources: plan.sources.map((s, i) => ({ className: plan.classes[i]!, share: plan.shares[i]!, label: s.label, kind: s.kind, ref: s.ref, resolution: s.resolution, sha256: s.sha256 })),
      stages: stages.map((s) => ({ kind: s.kind, source: s.source, kimg: s.kimg, steps: s.steps, seconds: Math.round(s.seconds * 10) / 10 })),
      notes: [...plan.notes, ...(plan.method !== 'cocktail' ? [`Made with the ${plan.method === 'average' ? 'averaging-without-rooting' : 'TransferGAN'} baseline, not GAN Cocktail.`] : [])],
    },
    training: {
      preset: 'merge',
      kimg: stages.reduce((a, s) => a + s.kimg, 0),
      step: stages.reduce((a, s) => a + s.steps, 0),
      seed: plan.seed,
      batch: plan.train.batch,
      backend: tf.getBackend() ?? 'unknown',
      datasetImages: null,
      metrics: {},
    },
  };
}

/** The model row for a merge's result (ModelStore.insert): weights from no checkpoint of the project. */
export function mergedModelRecord(result: MergeResult, name: string): { name: string; checkpointId: null; runId: null; source: 'import'; weights: Buffer; metadata: string } {
  return { name, checkpointId: null, runId: null, source: 'import', weights: result.weights, metadata: JSON.stringify(result.meta) };
}

/** Preview strips: the same latents every tick, through G_ema with its constant noise. */
function previewStrip(G: Generator, plan: MergePlan, kind: StageKind, source: number | null, count: number): { render(kimg: number, stage: number): Promise<MergePreview[]>; dispose(): void } {
  const { zDim, numClasses: k, resolution: r, imageChannels: c } = G.config;
  const z = count > 0 ? (tf.randomNormal([count, zDim], 0, 1, 'float32', hashInts(plan.seed, 0x70726576) || 1) as tf.Tensor2D) : null; // [count, zDim]
  const shown = kind === 'joint' ? plan.classes.map((_, i) => i) : [source ?? plan.root];
  return {
    async render(kimg: number, stage: number): Promise<MergePreview[]> {
      if (z === null) return [];
      const out: MergePreview[] = [];
      for (const cls of shown) {
        const img = tf.tidy(() => G.generate(z, k > 0 ? oneHotLabels(new Array<number>(count).fill(cls), k) : undefined, { noise: 'const' }).clipByValue(-1, 1).add(1).mul(127.5).round());
        const v = await readFloatsAndDispose(img); // [count, R, R, C]
        const strip = new Uint8Array(r * count * r * c); // [R, count·R, C]
        for (let i = 0; i < count; i++) {
          for (let y = 0; y < r; y++) for (let x = 0; x < r * c; x++) strip[(y * count * r + i * r) * c + x] = v[((i * r + y) * r) * c + x]!;
        }
        out.push({ stage, kind, kimg, classIndex: cls, className: plan.classes[cls] ?? '', png: encodePng(strip, count * r, r, c as 1 | 3) });
      }
      return out;
    },
    dispose(): void {
      z?.dispose();
    },
  };
}
