/**
 * A merge's settings, each with its default and why, and the plan made from them and the
 * sources before anything trains: the classes, their shares, the root, the architecture, and the
 * stages in order. Everything a merge needs to be refused for is checked here, so a bad merge is
 * refused before any training and with nothing written.
 *
 * Stages (GAN Cocktail, Avrahami et al. 2022):
 *   root-d   only when the root has no discriminator (an imported generator): D trained from
 *            scratch against the root's own samples, G starting from the root (G is then dropped)
 *   root     for every other source: the root's G and D fine-tuned on that source's samples only
 *   average  every parameter and buffer averaged over the root and the rooted networks, then
 *            made conditional on the N classes (core/merge/surgery.ts)
 *   joint    the conditional fine-tune on samples of all sources, labelled by class
 * The paper's baselines run through the same machinery: 'average' (average the sources' own
 * networks, no rooting; they must share an architecture) and 'transfer' (TransferGAN: the root
 * alone, made conditional, fine-tuned on all sources).
 */
import type { BackendChoiceName, MergeStageKind } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { NetConfig } from '../nets/config.js';
import { resolveNetConfig } from '../nets/config.js';
import { type ComputeClass, defaultBatch, resolveTrainConfig, type TrainConfig } from '../train/config.js';
import { hashInts } from '../random/rng.js';
import type { MergeSource, SourceKind } from './source.js';

export type MergeMethod = 'cocktail' | 'average' | 'transfer';
/** The API's names for a merge's stages (core/api/merge.ts). */
export type StageKind = MergeStageKind;

export interface MergeSettings {
  /** Class name of each source, in order; default: each source's label. */
  classes?: string[];
  /** Relative weight of each source in the batches; default 1 each (the paper: uniform). */
  weights?: number[];
  /** Index of the root source; default 0 (the first). */
  root?: number;
  /** Length of each rooting stage (one per source but the root), in kimg. */
  kimgRoot: number;
  /** Training of the root's discriminator when it has none, in kimg; default kimgRoot. */
  kimgRootD?: number;
  /** Length of the joint conditional fine-tune, in kimg. */
  kimgMerge: number;
  /** The merged model's resolution; default (and, for now, the only one allowed) the root's. */
  resolution?: number;
  /** Seeds everything random: the same sources, settings and seed give the same merge. */
  seed?: number;
  /** 'cocktail' (default); 'average' and 'transfer' are the paper's baselines. */
  method?: MergeMethod;
  /** Images per step; default the training default for the resolution and compute class. */
  batch?: number;
  /** Adam learning rates; default 0.0025 (StyleGAN2-ADA), as training. */
  gLr?: number;
  dLr?: number;
  /** R1 weight; default StyleGAN2-ADA's auto γ for the resolution and batch. */
  r1Gamma?: number;
  /** Statistics and previews every tickKimg; default a 50th of each stage, 0.1 to 4 kimg. */
  tickKimg?: number;
  /** A checkpoint every snapshotTicks ticks (and at each stage's end, pause and stop); default 5. */
  snapshotTicks?: number;
  /** Picks the default batch: 'cpu' (default) or 'gpu'. */
  compute?: ComputeClass;
  /** The backend the worker asks for (recorded in the plan). */
  backend?: BackendChoiceName;
}

export interface StagePlan {
  kind: StageKind;
  /** The source it roots (root-d: the root), null for average and joint. */
  source: number | null;
  kimg: number;
  /** For people: "Rooting Ink cats on Watercolour cats". */
  title: string;
}

/** What a source was when the merge was planned (a resumed merge checks it has the same ones). */
export interface PlannedSource {
  kind: SourceKind;
  label: string;
  ref: string;
  resolution: number;
  channels: number;
  sha256: string;
  numClasses: number;
  classIndex: number | null;
}

export interface MergePlan {
  format: 1;
  method: MergeMethod;
  seed: number;
  classes: string[];
  /** Each source's share of the images (weights normalised to sum to 1). */
  shares: number[];
  root: number;
  sources: PlannedSource[];
  /** The networks while rooting (the root's, unconditional) and after averaging (N classes). */
  net: NetConfig;
  mergedNet: NetConfig;
  /** Where the root's discriminator comes from: its own, or trained in stage root-d. */
  rootD: 'own' | 'trained';
  stages: StagePlan[];
  train: { batch: number; gLr: number | null; dLr: number | null; r1Gamma: number | null; tickKimg: number | null; snapshotTicks: number; compute: ComputeClass; backend: BackendChoiceName };
  /** Things to tell the user, in words. */
  notes: string[];
}

function refuse(message: string, subject?: string): never {
  throw new UserError('invalid-request', message, subject);
}

/** Architecture fields that must agree for networks to be averaged (the seed and minibatch-stddev group do not matter). */
function sameArchitecture(a: NetConfig, b: NetConfig): boolean {
  const keys: Array<keyof NetConfig> = ['resolution', 'imageChannels', 'numClasses', 'zDim', 'wDim', 'mappingLayers', 'mappingLrMul', 'channelBase', 'channelMax', 'mbstdChannels', 'cmapDim'];
  return keys.every((k) => a[k] === b[k]);
}

/** Checks the settings against the sources and makes the plan; refuses (UserError) with the reason. */
export function planMerge(sources: readonly MergeSource[], s: MergeSettings): MergePlan {
  const n = sources.length;
  if (n < 2) refuse(`A merge needs two or more generators; ${n === 0 ? 'none was' : 'one was'} given.`, 'sources');
  const method = s.method ?? 'cocktail';
  const notes: string[] = [];

  // Classes: one per source, named, distinct.
  const classes = (s.classes ?? sources.map((x) => x.label)).map((c) => c.trim());
  if (classes.length !== n) refuse(`${classes.length} class names for ${n} generators: give one per generator, in order.`, 'classes');
  classes.forEach((c, i) => {
    if (c.length === 0 || c.length > 200) refuse(`The class name of generator ${i + 1} ("${sources[i]!.label}") must be 1 to 200 characters.`, 'classes');
    const j = classes.findIndex((d) => d.toLowerCase() === c.toLowerCase());
    if (j !== i) refuse(`Generators ${j + 1} and ${i + 1} are both called "${c}": give each class its own name.`, 'classes');
  });

  // Weights → shares.
  const weights = s.weights ?? sources.map(() => 1);
  if (weights.length !== n) refuse(`${weights.length} weights for ${n} generators: give one per generator, in order.`, 'weights');
  if (weights.some((w) => !Number.isFinite(w) || w <= 0)) refuse(`Weights must be positive numbers; got ${weights.join(', ')}.`, 'weights');
  const total = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => w / total);

  // The root: a studio generator (the merged model takes its architecture and starts from its weights).
  const root = s.root ?? 0;
  if (!Number.isInteger(root) || root < 0 || root >= n) refuse(`The root must be one of the generators, 1 to ${n}; got ${root + 1}.`, 'root');
  const rootSource = sources[root]!;
  const rootNets = rootSource.networks;
  if (rootNets === null) {
    return refuse(`"${rootSource.label}" (ONNX) cannot be the root: the merged model takes the root's architecture and starts from its weights, and an ONNX file's are not the studio's. Pick a studio model, run or TF.js export as the root; the ONNX generator stays a source.`, 'root');
  }
  const resolution = s.resolution ?? rootNets.net.resolution;
  if (resolution !== rootNets.net.resolution) {
    refuse(`The merged model is ${rootNets.net.resolution}², the root's resolution ("${rootSource.label}"); ${resolution}² would need another root. Pick a root made at ${resolution}², or leave the resolution as the root's. Other generators may be any size: their images are resampled.`, 'resolution');
  }
  const channels = rootNets.net.imageChannels;
  for (const x of sources) {
    if (x.channels !== channels && !(x.channels === 1 && channels === 3) && !(x.channels === 3 && channels === 1)) {
      refuse(`"${x.label}" makes images with ${x.channels} channels; the merge makes ${channels === 3 ? 'RGB' : 'grayscale'} images (the root's).`, 'sources');
    }
    if (x.channels !== channels) notes.push(`"${x.label}" makes ${x.channels === 1 ? 'grayscale' : 'RGB'} images; they are converted to ${channels === 3 ? 'RGB' : 'grayscale'}.`);
    if (x.resolution !== resolution) notes.push(`"${x.label}" makes ${x.resolution}² images; they are resampled to ${resolution}².`);
  }

  // Lengths.
  const positive = (v: number | undefined, what: string): number => (v !== undefined && Number.isFinite(v) && v > 0 ? v : refuse(`${what} must be a positive number of kimg; got ${String(v)}.`, what));
  const kimgMerge = positive(s.kimgMerge, 'kimgMerge');
  const kimgRoot = method === 'cocktail' ? positive(s.kimgRoot, 'kimgRoot') : s.kimgRoot;
  const compute = s.compute ?? 'cpu';
  const batch = s.batch ?? defaultBatch(resolution, compute);
  if (!Number.isInteger(batch) || batch < 1 || batch > 1024) refuse(`The batch must be a whole number from 1 to 1024; got ${batch}.`, 'batch');

  // Architectures: rooting keeps the root's, unconditional (a conditional root is fixed to its class).
  const net = resolveNetConfig({ ...rootNets.net, numClasses: 0, mbstdGroupSize: Math.min(4, batch), seed: s.seed ?? 0 });
  const mergedNet = resolveNetConfig({ ...net, numClasses: n });
  if (rootNets.net.numClasses > 0) {
    const c = rootSource.classIndex ?? 0;
    notes.push(`The root "${rootSource.label}" has classes; it is rooted and averaged as its class "${rootNets.classNames[c] ?? c}".`);
  }

  // The root's discriminator.
  let rootD: MergePlan['rootD'] = 'own';
  if (method !== 'average' && rootNets.D === null) {
    rootD = 'trained';
    notes.push(`The root "${rootSource.label}" has ${rootNets.dNote.replace(/^no discriminator/, 'no discriminator')}; one is trained from scratch against its own samples first.`);
  }
  if (method === 'average') {
    for (const x of sources) {
      if (x.networks === null) refuse(`Averaging without rooting needs every generator's own networks; "${x.label}" is an ONNX file.`, 'method');
      if (!sameArchitecture({ ...x.networks.net, numClasses: 0 }, { ...rootNets.net, numClasses: 0 })) refuse(`Averaging without rooting needs one architecture; "${x.label}" differs from "${rootSource.label}".`, 'method');
      if (x.networks.D === null) refuse(`Averaging without rooting needs every generator's discriminator; "${x.label}" has ${x.networks.dNote}.`, 'method');
    }
  }

  // Stages.
  const stages: StagePlan[] = [];
  if (rootD === 'trained') stages.push({ kind: 'root-d', source: root, kimg: positive(s.kimgRootD ?? kimgRoot ?? kimgMerge, 'kimgRootD'), title: `Training a discriminator for "${rootSource.label}"` });
  if (method === 'cocktail') {
    sources.forEach((x, i) => {
      if (i !== root) stages.push({ kind: 'root', source: i, kimg: kimgRoot!, title: `Rooting "${x.label}" on "${rootSource.label}"` });
    });
  }
  stages.push({ kind: 'average', source: null, kimg: 0, title: method === 'transfer' ? `Adding classes to "${rootSource.label}"` : 'Averaging the networks' });
  stages.push({ kind: 'joint', source: null, kimg: kimgMerge, title: 'Fine-tuning on every class' });

  return {
    format: 1,
    method,
    seed: s.seed ?? 0,
    classes,
    shares,
    root,
    sources: sources.map((x) => ({ kind: x.kind, label: x.label, ref: x.ref, resolution: x.resolution, channels: x.channels, sha256: x.sha256, numClasses: x.numClasses, classIndex: x.classIndex })),
    net,
    mergedNet,
    rootD,
    stages,
    train: { batch, gLr: s.gLr ?? null, dLr: s.dLr ?? null, r1Gamma: s.r1Gamma ?? null, tickKimg: s.tickKimg ?? null, snapshotTicks: s.snapshotTicks ?? 5, compute, backend: s.backend ?? 'auto' },
    notes,
  };
}

/**
 * The training config of stage `index`: the studio's training defaults (baseline: plain StyleGAN2
 * loss + R1, no augmentation: samples are unlimited), the stage's length and network, and its own
 * random stream. The EMA ramp-up stays on (StyleGAN2-ADA turns it off when resuming a long run):
 * a stage is short, and with the full half-life from its first step G_ema — what the stage hands
 * on — would barely leave its starting weights (measured: a 0.25 kimg rooting moved it ~7%).
 */
export function stageConfig(plan: MergePlan, index: number): TrainConfig {
  const stage = plan.stages[index];
  if (stage === undefined || stage.kind === 'average') throw new Error(`stage ${index} does not train`);
  const t = plan.train;
  const net = stage.kind === 'joint' ? plan.mergedNet : plan.net;
  const base = resolveTrainConfig(
    {
      preset: 'baseline',
      kimg: stage.kimg,
      batch: t.batch,
      seed: hashInts(plan.seed, index),
      backend: t.backend,
      advanced: {
        conditional: false,
        ...(t.gLr !== null ? { gLr: t.gLr } : {}),
        ...(t.dLr !== null ? { dLr: t.dLr } : {}),
        ...(t.r1Gamma !== null ? { r1Gamma: t.r1Gamma } : {}),
        ...(t.tickKimg !== null ? { tickKimg: t.tickKimg } : {}),
        snapshotTicks: t.snapshotTicks,
      },
    },
    { images: 1, resolution: net.resolution, channels: net.imageChannels, numClasses: 0 },
    t.compute,
  );
  return { ...base, preset: 'merge', net };
}

/** Checks that a resumed merge was given the sources it was planned with. */
export function checkSameSources(plan: MergePlan, sources: readonly MergeSource[]): void {
  if (sources.length !== plan.sources.length) {
    refuse(`This merge was started with ${plan.sources.length} generators; ${sources.length} were given to resume it. Resume it with the same ones, or start a new merge.`, 'sources');
  }
  plan.sources.forEach((p, i) => {
    const x = sources[i]!;
    if (x.sha256 !== p.sha256 || x.kind !== p.kind || x.classIndex !== p.classIndex) {
      refuse(`Generator ${i + 1} is not the one this merge started with ("${p.label}", ${p.ref}): ${x.sha256 !== p.sha256 ? 'its weights changed' : 'it is set up differently'}. Resume with the same generators, or start a new merge.`, 'sources');
    }
  });
}
