/**
 * Every training option, declared once, as data: its key, its label in plain words, one sentence
 * of help, its type and range, its default (or what the studio decides when it is left blank), the
 * advanced-panel group it sits in, and its `atelier train` flag. From this table come the request
 * schema (core/api/train.ts), the Train view's fields and their checks (renderer/src/lib/
 * train-settings.ts), the CLI's flags and its --help (core/cli/train-options-cli.ts), and the
 * defaults the engine resolves (core/train/config.ts, core/augment/config.ts).
 *
 * Zod-free, so the renderer imports it without bundling zod (whose eval probe trips the CSP).
 * Adding an option: one entry here, plus its use in the engine.
 */
import { ADA_PIPELINES, BACKEND_CHOICES, DIFFAUGMENT_PARTS, LOSS_CHOICES, METRIC_CHOICES } from './vocabulary.js';

/** Where an option sits: the form's main settings, or a group of the advanced panel. */
export type OptionGroup = 'run' | 'transfer' | 'augment' | 'vision' | 'optimiser' | 'capacity' | 'schedule' | 'metrics';

interface OptionBase {
  /** The form's label, in plain words. */
  label: string;
  /** One sentence for the form (what blank means is added from `blank`). */
  help: string;
  /** What the studio does when the option is left blank, in words ("adaptive", "by resolution"); absent: the default value. */
  blank?: string;
  group: OptionGroup;
  /** In TrainSettings.advanced (the collapsed panel) rather than a main setting. */
  advanced: boolean;
  /** `atelier train --<flag>`; absent: not on the command line. */
  flag?: string;
  /** The flag's value in --help (`K`, `NAME`). */
  metavar?: string;
  /** The CLI's description, when it should differ from `help`. */
  cli?: string;
  /** Only runs whose preset augments what D sees use it. */
  augmentOnly?: boolean;
  /** Only the vision-aided preset uses it. */
  visionOnly?: boolean;
  /** Must be given (only `preset` and `kimg`). */
  required?: boolean;
}

export interface NumberOption extends OptionBase {
  type: 'number';
  min: number;
  /** Whether `min` itself is allowed (learning rates and durations must be above 0). */
  minInclusive: boolean;
  max: number;
  integer: boolean;
  /** The form input's step (its arrows); any value in range is accepted. */
  step: number | 'any';
  /** The value used when left blank, or null when the studio derives it (see `blank`). */
  default: number | null;
  /** Messages for a value below `min` / above `max`, where a plainer one than the generic reads better. */
  messages?: { low?: string; high?: string };
}

export interface ChoiceOption extends OptionBase {
  type: 'choice';
  /** The menu, with what each value means for people. */
  choices: ReadonlyArray<{ value: string; label: string }>;
  default: string | null;
  /** Accepts values beyond the menu too (a DiffAugment subset); `invalid` says what is allowed. */
  accepts?: (value: string) => boolean;
  invalid?: string;
}

export interface BooleanOption extends OptionBase {
  type: 'boolean';
  default: boolean | null;
}

export interface TextOption extends OptionBase {
  type: 'text';
  maxLength: number;
  /** Leading and trailing spaces are dropped. */
  trim: boolean;
  default: string | null;
}

/** Another run's weights: a run, optionally one of its checkpoints (`RUN` or `RUN:CHECKPOINT` on the command line). */
export interface RunRefOption extends OptionBase {
  type: 'run-ref';
  default: null;
}

export type TrainOption = NumberOption | ChoiceOption | BooleanOption | TextOption | RunRefOption;

/** True for an ADA pipeline name, `diffaugment`, or `diffaugment:` with a comma-separated subset of DIFFAUGMENT_PARTS. */
export function isAugPipe(name: string): boolean {
  if ((ADA_PIPELINES as readonly string[]).includes(name) || name === 'diffaugment') return true;
  const m = /^diffaugment:(.+)$/.exec(name);
  if (!m) return false;
  const parts = m[1]!.split(',');
  return parts.every((p) => (DIFFAUGMENT_PARTS as readonly string[]).includes(p)) && new Set(parts).size === parts.length;
}

const AUG_PIPE_LABELS: Record<(typeof ADA_PIPELINES)[number] | 'diffaugment', string> = {
  bgc: 'bgc: flips, rotations, shifts, scaling, colour (ADA’s default)',
  blit: 'blit: flips, 90° rotations, whole-pixel shifts',
  geom: 'geom: scaling, rotation, stretching, sub-pixel shifts',
  color: 'color: brightness, contrast, luma flip, hue, saturation',
  filter: 'filter: boosts or damps 4 frequency bands',
  noise: 'noise: added grain',
  cutout: 'cutout: a blanked square',
  bg: 'bg: blit + geom',
  bgcf: 'bgcf: bgc + filter',
  bgcfn: 'bgcfn: bgcf + noise',
  bgcfnc: 'bgcfnc: everything',
  diffaugment: 'DiffAugment: colour, translation, cutout, always on',
};

const BACKEND_LABELS: Record<(typeof BACKEND_CHOICES)[number], string> = {
  auto: 'Automatic',
  'tensorflow-gpu': 'TensorFlow with CUDA (NVIDIA GPU)',
  tensorflow: 'TensorFlow on the CPU (native)',
  webgpu: 'WebGPU (any GPU)',
  wasm: 'WebAssembly (CPU)',
  cpu: 'Plain JavaScript (CPU, slowest)',
};

const LOSS_LABELS: Record<(typeof LOSS_CHOICES)[number], string> = { logistic: 'Logistic (StyleGAN2)', hinge: 'Hinge', lsgan: 'Least squares (LSGAN)' };

const METRIC_LABELS: Record<(typeof METRIC_CHOICES)[number], string> = { kid: 'KID (honest with few images)', fid: 'FID', pr: 'Precision and recall (F1)' };

const menu = <V extends string>(labels: Record<V, string>, order: readonly V[]): ReadonlyArray<{ value: V; label: string }> => order.map((value) => ({ value, label: labels[value] }));

export const TRAIN_OPTIONS = {
  // The run.
  preset: { type: 'text', label: 'Preset', help: 'How the run trains: baseline, ada for small datasets (under ~5,000 images), or vision-aided (ADA plus pretrained networks as extra judges).', group: 'run', advanced: false, flag: 'preset', metavar: 'ID', required: true, maxLength: 64, trim: false, default: null },
  name: { type: 'text', label: 'Run name', help: 'How the run list shows it.', blank: 'Run N · preset', group: 'run', advanced: false, flag: 'name', metavar: 'NAME', maxLength: 200, trim: true, default: null },
  kimg: {
    type: 'number', label: 'Duration (kimg)', help: 'How long to train, in thousands of your images shown to the networks (kimg).', blank: 'by resolution', group: 'run', advanced: false, flag: 'kimg', metavar: 'K', required: true,
    cli: 'duration in thousands of images shown to the discriminator', min: 0, minInclusive: false, max: 100000, integer: false, step: 'any', default: null,
    messages: { low: 'The duration must be more than 0 kimg.' },
  },
  batch: {
    type: 'number', label: 'Batch', help: 'Images per step; an automatic batch is made smaller if memory runs short.', blank: 'by resolution', group: 'run', advanced: false, flag: 'batch', metavar: 'B',
    cli: "images per step (default: by resolution, shrunk to fit the backend's memory)", min: 1, minInclusive: true, max: 256, integer: true, step: 1, default: null,
  },
  seed: { type: 'number', label: 'Seed', help: 'The same seed and settings give the same run on the same backend.', group: 'run', advanced: false, flag: 'seed', metavar: 'S', cli: 'seeds weights, batches and latents', min: 0, minInclusive: true, max: 2147483647, integer: true, step: 1, default: 0 },
  backend: { type: 'choice', label: 'Compute', help: 'Where training runs; automatic picks the fastest that loads.', group: 'run', advanced: false, flag: 'backend', metavar: 'NAME', choices: menu(BACKEND_LABELS, BACKEND_CHOICES), default: 'auto' },
  threads: {
    type: 'number', label: 'CPU threads', help: 'Threads the WebAssembly (CPU) backend computes on, 1–8; GPU backends ignore it.', blank: 'every core of this machine', group: 'run', advanced: true, flag: 'threads', metavar: 'N',
    min: 1, minInclusive: true, max: 8, integer: true, step: 1, default: null,
  },
  conditional: {
    type: 'boolean', label: 'Use the labels as classes', help: 'The generator learns each label apart, and you can ask it for one label later.', blank: 'yes with 2 or more labels', group: 'run', advanced: true, flag: 'conditional', metavar: 'yes|no', default: null,
  },
  // Transfer learning.
  transferFrom: { type: 'run-ref', label: 'Weights to start from', help: "Transfer learning: start from another run's weights (same resolution and size).", blank: 'from scratch', group: 'transfer', advanced: true, flag: 'from', metavar: 'RUN[:CP]', cli: "transfer learning: start from run RUN's weights (its newest checkpoint, or checkpoint CP)", default: null },
  freezeD: { type: 'number', label: 'Frozen D blocks', help: "With weights to start from: keep the discriminator's first blocks frozen (helps with very few images).", group: 'transfer', advanced: true, flag: 'freeze-d', metavar: 'N', min: 0, minInclusive: true, max: 10, integer: true, step: 1, default: 0 },
  // Augmentation (ADA).
  augPipe: {
    type: 'choice', label: 'Pipeline', help: 'What is done to the images D sees; each change happens with probability p.', group: 'augment', advanced: true, augmentOnly: true, flag: 'augpipe', metavar: 'NAME',
    cli: `what augments the images D sees: bgc (blit, geometric, colour), ${ADA_PIPELINES.filter((n) => n !== 'bgc').join(', ')}; or diffaugment[:${DIFFAUGMENT_PARTS.join(',')}] (DiffAugment, always on)`,
    choices: menu(AUG_PIPE_LABELS, ['bgc', 'blit', 'geom', 'color', 'filter', 'noise', 'cutout', 'bg', 'bgcf', 'bgcfn', 'bgcfnc', 'diffaugment']), default: 'bgc',
    accepts: isAugPipe, invalid: `Use an ADA pipeline (${ADA_PIPELINES.join(', ')}) or diffaugment, optionally with its parts (diffaugment:color,translation,cutout).`,
  },
  augTarget: {
    type: 'number', label: 'Overfitting target (r_t)', help: 'Images are altered more often (p rises) while the overfitting signal r_t — how surely the discriminator calls your images real, −1 to 1 — is above this, and less often below it.', group: 'augment', advanced: true, augmentOnly: true, flag: 'target', metavar: 'T',
    cli: 'the r_t that the adaptive strength p steers toward', min: 0, minInclusive: false, max: 1, integer: false, step: 'any', default: 0.6, // the paper's §3: 0.6 worked across datasets
    messages: { low: 'The overfitting target (r_t) must be above 0.', high: 'The overfitting target (r_t) must be at most 1.' },
  },
  augP: {
    type: 'number', label: 'Fixed strength p', help: 'Augment each image with this probability per transform, 0–1, instead of adapting it.', blank: 'adaptive', group: 'augment', advanced: true, augmentOnly: true, flag: 'p', metavar: 'P',
    cli: 'a fixed strength p from 0 to 1 instead of an adaptive one', min: 0, minInclusive: true, max: 1, integer: false, step: 'any', default: null,
    messages: { low: 'A fixed p must be from 0 to 1.', high: 'A fixed p must be from 0 to 1.' },
  },
  augSpeedKimg: {
    type: 'number', label: 'Adaptation speed (kimg)', help: 'kimg for p to go from 0 to 1 at the fastest.', blank: 'a fifth of the duration, at most 500 (100 when starting from another run’s weights)', group: 'augment', advanced: true, augmentOnly: true, flag: 'ada-kimg', metavar: 'K',
    min: 0, minInclusive: false, max: 100000, integer: false, step: 'any', default: null, messages: { low: 'The ADA speed must be more than 0 kimg.' },
  },
  // Vision-aided judges (core/vision/; resolved in core/presets/vision.ts).
  visionBackbones: {
    type: 'text', label: 'Pretrained judges to pick from', help: 'Which bundled networks the run may add as judges, comma-separated (mobilenetv2, mobilenetv2-1.0, inception, centernet); auto: the first three.', blank: 'auto', group: 'vision', advanced: true, visionOnly: true, flag: 'backbones', metavar: 'auto|ID,…',
    maxLength: 200, trim: true, default: null,
  },
  visionK: {
    type: 'number', label: 'Judges at most (k)', help: 'How many pretrained judges the run adds, one at each selection point.', blank: '1 under 20 kimg, 2 under 100 kimg, else 3', group: 'vision', advanced: true, visionOnly: true, flag: 'k', metavar: 'K',
    min: 1, minInclusive: true, max: 3, integer: true, step: 1, default: null,
  },
  visionInput: {
    type: 'number', label: 'Judges’ image size', help: 'Images are resized to this side before a pretrained judge sees them: smaller is faster, 224 is what the networks were trained at.', blank: '224 on a GPU, 64 on a CPU', group: 'vision', advanced: true, visionOnly: true, flag: 'vision-input', metavar: 'N',
    min: 32, minInclusive: true, max: 299, integer: true, step: 1, default: null,
  },
  visionWarmupKimg: {
    type: 'number', label: 'Judge warm-up (kimg)', help: 'After a judge joins, only its own head learns for this long before it steers the generator.', blank: 'a twentieth of the duration', group: 'vision', advanced: true, visionOnly: true, flag: 'warmup-kimg', metavar: 'K',
    min: 0, minInclusive: true, max: 100000, integer: false, step: 'any', default: null,
  },
  visionSelectAt: {
    type: 'text', label: 'Add judges at (kimg)', help: 'When each judge is picked and added, comma-separated kimg (e.g. 5,10,15).', blank: 'at 10%, 25% and 40% of the duration', group: 'vision', advanced: true, visionOnly: true, flag: 'select-at', metavar: 'K1,K2,…',
    maxLength: 200, trim: true, default: null,
  },
  // Learning.
  gLr: { type: 'number', label: 'G learning rate', help: 'How far each step moves the generator (Adam).', group: 'optimiser', advanced: true, flag: 'g-lr', metavar: 'LR', min: 0, minInclusive: false, max: 1, integer: false, step: 'any', default: 0.0025 },
  dLr: { type: 'number', label: 'D learning rate', help: 'The same for the discriminator.', group: 'optimiser', advanced: true, flag: 'd-lr', metavar: 'LR', min: 0, minInclusive: false, max: 1, integer: false, step: 'any', default: 0.0025 },
  dStepsPerG: { type: 'number', label: 'D steps per G step', help: 'Discriminator updates for each generator update, 1–8.', group: 'optimiser', advanced: true, flag: 'd-steps', metavar: 'N', min: 1, minInclusive: true, max: 8, integer: true, step: 1, default: 1 },
  r1Gamma: { type: 'number', label: 'Smoothness (R1 γ)', help: 'How strongly the discriminator is kept smooth around your images (the R1 penalty’s weight γ).', blank: '0.0002 × resolution² ÷ batch', group: 'optimiser', advanced: true, flag: 'r1-gamma', metavar: 'G', min: 0, minInclusive: true, max: 10000, integer: false, step: 'any', default: null },
  emaKimg: { type: 'number', label: 'EMA half-life (kimg)', help: 'Previews and exports use an average of G over roughly this many kimg.', blank: 'batch × 10 ÷ 32', group: 'optimiser', advanced: true, flag: 'ema-kimg', metavar: 'K', min: 0, minInclusive: true, max: 1000, integer: false, step: 'any', default: null },
  loss: { type: 'choice', label: 'Loss', help: 'How D’s verdicts become the losses both networks minimise.', group: 'optimiser', advanced: true, flag: 'loss', metavar: 'NAME', choices: menu(LOSS_LABELS, LOSS_CHOICES), default: 'logistic' },
  // Capacity.
  channelBase: { type: 'number', label: 'Channel base', help: 'Overall width of both networks: smaller trains faster and learns less.', blank: 'the value for this resolution', group: 'capacity', advanced: true, flag: 'channel-base', metavar: 'N', min: 256, minInclusive: true, max: 65536, integer: true, step: 256, default: null },
  channelMax: { type: 'number', label: 'Channel max', help: 'Channels of the widest layer, 8–1024.', blank: 'the value for this resolution', group: 'capacity', advanced: true, flag: 'channel-max', metavar: 'N', min: 8, minInclusive: true, max: 1024, integer: true, step: 8, default: null },
  mappingLayers: { type: 'number', label: 'Mapping layers', help: 'Depth of the network that shapes the latent space, 1–8.', group: 'capacity', advanced: true, flag: 'mapping-layers', metavar: 'N', min: 1, minInclusive: true, max: 8, integer: true, step: 1, default: 2 },
  // Ticks and checkpoints.
  tickKimg: { type: 'number', label: 'Tick (kimg)', help: 'Charts and the sample grid refresh every this many kimg.', blank: 'the duration ÷ 50, from 0.1 to 4', group: 'schedule', advanced: true, flag: 'tick-kimg', metavar: 'K', min: 0, minInclusive: false, max: 1000, integer: false, step: 'any', default: null },
  snapshotTicks: { type: 'number', label: 'Checkpoint every (ticks)', help: 'A checkpoint, which resume starts from, every this many ticks (and on pause and stop).', group: 'schedule', advanced: true, flag: 'snapshot-ticks', metavar: 'N', min: 1, minInclusive: true, max: 1000, integer: true, step: 1, default: 5 },
  // Metrics.
  metric: { type: 'choice', label: 'Best snapshot by', help: 'All three are computed at each evaluation; this one marks the best checkpoint.', blank: 'KID', group: 'metrics', advanced: true, flag: 'metric', metavar: 'kid|fid|pr', choices: menu(METRIC_LABELS, METRIC_CHOICES), default: 'kid' },
  evalEvery: { type: 'number', label: 'Evaluate every (checkpoints)', help: 'KID, FID, precision and recall of the samples at every this many checkpoints; 0: never while training.', group: 'metrics', advanced: true, flag: 'eval-every', metavar: 'N', min: 0, minInclusive: true, max: 1000, integer: true, step: 1, default: 1 },
  evalReals: { type: 'number', label: 'Dataset images per evaluation', help: 'Compared with (their features are computed once per project).', blank: 'what fits the time budget, up to 200 on a CPU', group: 'metrics', advanced: true, flag: 'eval-reals', metavar: 'N', min: 4, minInclusive: true, max: 5000, integer: true, step: 1, default: null }, // 5000 at most: the metrics hold N² products
  evalFakes: { type: 'number', label: 'Generated images per evaluation', help: 'The same latents every time.', blank: 'what fits the time budget, up to 64 on a CPU', group: 'metrics', advanced: true, flag: 'eval-fakes', metavar: 'N', min: 4, minInclusive: true, max: 5000, integer: true, step: 1, default: null },
  evalBudget: { type: 'number', label: 'Evaluation time budget (%)', help: 'Evaluations wait when they would take more than this share of the training time; 0: no limit.', group: 'metrics', advanced: true, flag: 'eval-budget', metavar: '%', min: 0, minInclusive: true, max: 1000, integer: false, step: 'any', default: 10 },
} as const satisfies Record<string, TrainOption>;

export type TrainOptions = typeof TRAIN_OPTIONS;
export type TrainOptionKey = keyof TrainOptions;

/** The value an option takes. */
type ValueOf<O> = O extends { type: 'number' }
  ? number
  : O extends { type: 'boolean' }
    ? boolean
    : O extends { type: 'run-ref' }
      ? { runId: number; checkpointId?: number }
      : O extends { type: 'choice'; accepts: unknown }
        ? string
        : O extends { type: 'choice'; choices: ReadonlyArray<{ value: infer V }> }
          ? V
          : string;

type KeysWhere<Advanced extends boolean, Required extends boolean> = {
  [K in TrainOptionKey]: TrainOptions[K]['advanced'] extends Advanced ? (TrainOptions[K] extends { required: true } ? (Required extends true ? K : never) : Required extends true ? never : K) : never;
}[TrainOptionKey];

/** The advanced options of a run (every one optional: blank leaves it to the studio). */
export type TrainAdvanced = { [K in KeysWhere<true, false>]?: ValueOf<TrainOptions[K]> };

/** What starting a run takes: the main settings, and the advanced ones. */
export type TrainSettings = { [K in KeysWhere<false, true>]: ValueOf<TrainOptions[K]> } & { [K in KeysWhere<false, false>]?: ValueOf<TrainOptions[K]> } & {
  advanced?: TrainAdvanced;
};

export const OPTION_KEYS = Object.keys(TRAIN_OPTIONS) as TrainOptionKey[];

/** What leaving the option blank means, in words: its `blank`, else its default value. */
export function blankWords(o: TrainOption): string | null {
  return o.blank ?? (o.default === null ? null : String(o.default));
}

/** The option's help with what blank means: "…. Blank: 0.6." */
export function optionHelp(o: TrainOption): string {
  const blank = blankWords(o);
  return blank === null ? o.help : `${o.help} Blank: ${blank}.`;
}

/** The allowed range of a number option in words: "0 to 1", "more than 0, up to 1". */
export function rangeWords(o: Pick<NumberOption, 'min' | 'minInclusive' | 'max'>): string {
  return o.minInclusive ? `${o.min} to ${o.max}` : `more than ${o.min}, up to ${o.max}`;
}

/** The message for a number out of range (what the schema says). */
export function rangeMessage(o: NumberOption, side: 'low' | 'high'): string {
  return o.messages?.[side] ?? `Use ${rangeWords(o)}.`;
}

/** Why a typed number is not accepted, naming the field ("r_t target: use more than 0, up to 1."), or null (blank is accepted). */
export function numberProblem(field: Pick<NumberOption, 'label' | 'min' | 'minInclusive' | 'max' | 'integer'>, text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  const n = Number(t);
  if (!Number.isFinite(n)) return `${field.label}: type a number.`;
  if (field.integer && !Number.isInteger(n)) return `${field.label}: use a whole number.`;
  const low = field.minInclusive ? n < field.min : n <= field.min;
  if (low || n > field.max) return `${field.label}: use ${rangeWords(field)}.`;
  return null;
}

/** The options of a group, in the table's order. */
export function optionsIn(group: OptionGroup): TrainOptionKey[] {
  return OPTION_KEYS.filter((k) => TRAIN_OPTIONS[k].group === group);
}
