/**
 * The new-run form's fields: the advanced options as a table (label, one line of help, the range
 * the contract accepts) and the parsing of what was typed into `TrainSettings`. A blank field
 * leaves the option to the studio (the preset and the dataset decide; core/train/config.ts).
 */
import type { AdaPipelineName, BackendChoiceName, MetricChoice, TrainAdvanced } from '../../../core/api/contract.js';

/**
 * The contract's BACKEND_CHOICES, best first. Repeated here because importing a value from the
 * contract would bundle zod, whose start-up probe for eval trips the renderer's CSP.
 */
export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const satisfies readonly BackendChoiceName[];
/** What each backend is, for people. */
export const BACKEND_NAMES: Record<BackendChoiceName, string> = {
  auto: 'Automatic',
  'tensorflow-gpu': 'TensorFlow with CUDA (NVIDIA GPU)',
  tensorflow: 'TensorFlow on the CPU (native)',
  webgpu: 'WebGPU (any GPU)',
  wasm: 'WebAssembly (CPU)',
  cpu: 'Plain JavaScript (CPU, slowest)',
};

export function backendName(backend: string): string {
  return BACKEND_NAMES[backend as BackendChoiceName] ?? backend;
}

// A compile error here means the contract gained a backend this list lacks.
const everyBackendListed: Exclude<BackendChoiceName, (typeof BACKEND_CHOICES)[number]> extends never ? true : never = true;
void everyBackendListed;

type NumericKey =
  | 'gLr'
  | 'dLr'
  | 'dStepsPerG'
  | 'r1Gamma'
  | 'emaKimg'
  | 'channelBase'
  | 'channelMax'
  | 'mappingLayers'
  | 'tickKimg'
  | 'snapshotTicks'
  | 'augTarget'
  | 'augP'
  | 'augSpeedKimg'
  | 'evalEvery'
  | 'evalReals'
  | 'evalFakes'
  | 'evalBudget';

export interface NumericField {
  key: NumericKey;
  label: string;
  help: string;
  min: number;
  /** Whether `min` itself is allowed (learning rates and the tick must be above 0). */
  minInclusive: boolean;
  max: number;
  integer: boolean;
  /** The input's step (arrows); any value in range is accepted. */
  step: number | 'any';
  group: 'optimiser' | 'capacity' | 'schedule' | 'augment' | 'metrics';
}

/** In the contract's order and ranges (core/api/contract.ts, `trainAdvanced`). */
export const NUMERIC_FIELDS: readonly NumericField[] = [
  { key: 'gLr', label: 'G learning rate', help: 'How far each step moves the generator (Adam). Blank: 0.0025.', min: 0, minInclusive: false, max: 1, integer: false, step: 'any', group: 'optimiser' },
  { key: 'dLr', label: 'D learning rate', help: 'The same for the discriminator. Blank: 0.0025.', min: 0, minInclusive: false, max: 1, integer: false, step: 'any', group: 'optimiser' },
  { key: 'dStepsPerG', label: 'D steps per G step', help: 'Discriminator updates for each generator update, 1–8. Blank: 1.', min: 1, minInclusive: true, max: 8, integer: true, step: 1, group: 'optimiser' },
  { key: 'r1Gamma', label: 'R1 γ', help: 'How strongly D is kept smooth around real images. Blank: 0.0002 × resolution² ÷ batch.', min: 0, minInclusive: true, max: 10000, integer: false, step: 'any', group: 'optimiser' },
  { key: 'emaKimg', label: 'EMA half-life (kimg)', help: 'Previews and exports use an average of G over roughly this many kimg. Blank: batch × 10 ÷ 32.', min: 0, minInclusive: true, max: 1000, integer: false, step: 'any', group: 'optimiser' },
  { key: 'channelBase', label: 'Channel base', help: 'Overall width of both networks: smaller trains faster and learns less. Blank: the value for this resolution.', min: 256, minInclusive: true, max: 65536, integer: true, step: 256, group: 'capacity' },
  { key: 'channelMax', label: 'Channel max', help: 'Channels of the widest layer, 8–1024. Blank: the value for this resolution.', min: 8, minInclusive: true, max: 1024, integer: true, step: 8, group: 'capacity' },
  { key: 'mappingLayers', label: 'Mapping layers', help: 'Depth of the network that shapes the latent space, 1–8. Blank: 2.', min: 1, minInclusive: true, max: 8, integer: true, step: 1, group: 'capacity' },
  { key: 'tickKimg', label: 'Tick (kimg)', help: 'Charts and the sample grid refresh every this many kimg. Blank: the duration ÷ 50, from 0.1 to 4.', min: 0, minInclusive: false, max: 1000, integer: false, step: 'any', group: 'schedule' },
  { key: 'snapshotTicks', label: 'Checkpoint every (ticks)', help: 'A checkpoint, which resume starts from, every this many ticks (and on pause and stop). Blank: 5.', min: 1, minInclusive: true, max: 1000, integer: true, step: 1, group: 'schedule' },
  { key: 'augTarget', label: 'r_t target', help: 'The strength p rises while r_t (how surely D calls the reals real, −1 to 1) is above this, and falls below it. Blank: 0.6.', min: 0, minInclusive: false, max: 1, integer: false, step: 'any', group: 'augment' },
  { key: 'augP', label: 'Fixed strength p', help: 'Augment each image with this probability per transform, 0–1, instead of adapting it. Blank: adaptive.', min: 0, minInclusive: true, max: 1, integer: false, step: 'any', group: 'augment' },
  { key: 'augSpeedKimg', label: 'Adaptation speed (kimg)', help: 'kimg for p to go from 0 to 1 at the fastest. Blank: a fifth of the duration, at most 500 (100 when starting from another run’s weights).', min: 0, minInclusive: false, max: 100000, integer: false, step: 'any', group: 'augment' },
  { key: 'evalEvery', label: 'Evaluate every (checkpoints)', help: 'KID, FID, precision and recall of the samples at every this many checkpoints; 0: never while training. Blank: 1.', min: 0, minInclusive: true, max: 1000, integer: true, step: 1, group: 'metrics' },
  { key: 'evalReals', label: 'Dataset images per evaluation', help: 'Compared with (their features are computed once per project). Blank: what fits the time budget, up to 200 on a CPU.', min: 4, minInclusive: true, max: 5000, integer: true, step: 1, group: 'metrics' },
  { key: 'evalFakes', label: 'Generated images per evaluation', help: 'The same latents every time. Blank: what fits the time budget, up to 64 on a CPU.', min: 4, minInclusive: true, max: 5000, integer: true, step: 1, group: 'metrics' },
  { key: 'evalBudget', label: 'Evaluation time budget (%)', help: 'Evaluations wait when they would take more than this share of the training time; 0: no limit. Blank: 10.', min: 0, minInclusive: true, max: 1000, integer: false, step: 'any', group: 'metrics' },
];

/** The contract's METRIC_CHOICES (repeated: see BACKEND_CHOICES), with what each is for people. */
export const METRICS: ReadonlyArray<{ value: MetricChoice; label: string }> = [
  { value: 'kid', label: 'KID (honest with few images)' },
  { value: 'fid', label: 'FID' },
  { value: 'pr', label: 'Precision and recall (F1)' },
];

/**
 * The contract's ADA_PIPELINES with what each does, for the pipeline menu (repeated, not imported:
 * see BACKEND_CHOICES), then DiffAugment.
 */
export const AUG_PIPES: ReadonlyArray<{ value: AdaPipelineName | 'diffaugment'; label: string }> = [
  { value: 'bgc', label: 'bgc: flips, rotations, shifts, scaling, colour (ADA’s default)' },
  { value: 'blit', label: 'blit: flips, 90° rotations, whole-pixel shifts' },
  { value: 'geom', label: 'geom: scaling, rotation, stretching, sub-pixel shifts' },
  { value: 'color', label: 'color: brightness, contrast, luma flip, hue, saturation' },
  { value: 'filter', label: 'filter: boosts or damps 4 frequency bands' },
  { value: 'noise', label: 'noise: added grain' },
  { value: 'cutout', label: 'cutout: a blanked square' },
  { value: 'bg', label: 'bg: blit + geom' },
  { value: 'bgcf', label: 'bgcf: bgc + filter' },
  { value: 'bgcfn', label: 'bgcfn: bgcf + noise' },
  { value: 'bgcfnc', label: 'bgcfnc: everything' },
  { value: 'diffaugment', label: 'DiffAugment: colour, translation, cutout, always on' },
];
// A compile error here means the contract gained a pipeline this menu lacks.
const everyPipeListed: Exclude<AdaPipelineName, (typeof AUG_PIPES)[number]['value']> extends never ? true : never = true;
void everyPipeListed;

export const LOSSES: ReadonlyArray<{ value: NonNullable<TrainAdvanced['loss']>; label: string }> = [
  { value: 'logistic', label: 'Logistic (StyleGAN2)' },
  { value: 'hinge', label: 'Hinge' },
  { value: 'lsgan', label: 'Least squares (LSGAN)' },
];

/** What the advanced panel holds: the text of each numeric field ('' = blank), the loss and the augmentation pipeline ('' = default). */
export interface AdvancedInput {
  numbers: Record<NumericKey, string>;
  loss: '' | NonNullable<TrainAdvanced['loss']>;
  augPipe: '' | (typeof AUG_PIPES)[number]['value'];
  /** The metric that picks the best snapshot ('' = KID). */
  metric: '' | MetricChoice;
}

export function blankAdvanced(): AdvancedInput {
  const numbers = Object.fromEntries(NUMERIC_FIELDS.map((f) => [f.key, ''])) as Record<NumericKey, string>;
  return { numbers, loss: '', augPipe: '', metric: '' };
}

/** Why a field's text is not accepted, or null (blank is accepted). */
export function numberProblem(field: Pick<NumericField, 'label' | 'min' | 'minInclusive' | 'max' | 'integer'>, text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  const n = Number(t);
  if (!Number.isFinite(n)) return `${field.label}: type a number.`;
  if (field.integer && !Number.isInteger(n)) return `${field.label}: use a whole number.`;
  const low = field.minInclusive ? n < field.min : n <= field.min;
  if (low || n > field.max) {
    return `${field.label}: use ${field.minInclusive ? `${field.min} to ${field.max}` : `more than ${field.min}, up to ${field.max}`}.`;
  }
  return null;
}

/** Presets whose runs augment what D sees (the augmentation fields apply to them only). */
export function presetAugments(presetId: string): boolean {
  return presetId === 'ada';
}

/**
 * The advanced options that were set, and the problems with the ones that cannot be used. The
 * augmentation fields count only when `augments` (the preset augments); DiffAugment takes no
 * target, p or speed.
 */
export function parseAdvanced(input: AdvancedInput, augments = false): { advanced: TrainAdvanced; problems: string[] } {
  const advanced: TrainAdvanced = {};
  const problems: string[] = [];
  const diff = input.augPipe === 'diffaugment';
  for (const f of NUMERIC_FIELDS) {
    if (f.group === 'augment' && (!augments || diff)) continue;
    const text = input.numbers[f.key];
    const problem = numberProblem(f, text);
    if (problem) problems.push(problem);
    else if (text.trim() !== '') advanced[f.key] = Number(text);
  }
  if (input.loss) advanced.loss = input.loss;
  if (augments && input.augPipe) advanced.augPipe = input.augPipe;
  if (input.metric) advanced.metric = input.metric;
  return { advanced, problems };
}
