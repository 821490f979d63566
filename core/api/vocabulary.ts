/**
 * The contract's vocabulary: choice lists, ids and small shared types. Zod-free and value-light,
 * so the renderer imports from here (a value from a schema module would bundle zod, whose start-up
 * probe for eval trips the renderer's CSP).
 */

/** Compute backends, best first; 'auto' picks the best that loads. */
export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoiceName = (typeof BACKEND_CHOICES)[number];

export const METRIC_CHOICES = ['kid', 'fid', 'pr'] as const;
/** kid: Kernel Inception Distance (the default: honest at small sample counts); fid: Fréchet Inception Distance; pr: precision and recall. */
export type MetricChoice = (typeof METRIC_CHOICES)[number];

export type AlertSeverity = 'info' | 'warning' | 'critical';

/** ADA's augmentation pipelines by name (StyleGAN2-ADA's augpipe_specs; core/augment/config.ts holds what each enables). */
export const ADA_PIPELINES = ['blit', 'geom', 'color', 'filter', 'noise', 'cutout', 'bg', 'bgc', 'bgcf', 'bgcfn', 'bgcfnc'] as const;
export type AdaPipelineName = (typeof ADA_PIPELINES)[number];
/** DiffAugment's transforms (Zhao et al. 2020); `diffaugment` alone means all three. */
export const DIFFAUGMENT_PARTS = ['color', 'translation', 'cutout'] as const;

/** The adversarial losses (StyleGAN2's logistic, hinge, least squares). */
export const LOSS_CHOICES = ['logistic', 'hinge', 'lsgan'] as const;
export type LossChoice = (typeof LOSS_CHOICES)[number];

export type FitMode = 'crop' | 'pad' | 'stretch';
export type ColourMode = 'rgb' | 'grayscale';
export type LabelSource = 'none' | 'folders';

export type RunStatusName = 'queued' | 'running' | 'paused' | 'stopped' | 'done' | 'failed';

/** What to sample: a promoted model, or one checkpoint of a run (its G_ema). */
export type GallerySource = { kind: 'model'; modelId: number } | { kind: 'checkpoint'; checkpointId: number };

/** A latent to start from: a seed drawn now (with ψ and class), or a saved gallery item. */
export type LatentRef = { seed: number; psi: number; classIndex: number | null } | { itemId: number };

/** One image to make. */
export type SampleSpec =
  | { kind: 'seed'; seed: number; psi: number; classIndex: number | null }
  /** A frame between two latents: linear in w (after ψ), or spherical in z (then mapped, ψ and class blended). */
  | { kind: 'interpolate'; from: LatentRef; to: LatentRef; t: number; mode: 'w-linear' | 'z-slerp' }
  /** Σ sign · mean(w of the refs): "A − B + C", each letter one latent or the average of a picked set. */
  | { kind: 'arithmetic'; terms: Array<{ sign: 1 | -1; refs: LatentRef[] }> };


export type ModelExportFormat = 'tfjs' | 'onnx' | 'html' | 'images';

/**
 * The quality scale's words (core/metrics/quality.ts: 0 = the untrained generator, 100 = the
 * dataset against itself): below BLURRY a run's samples are still blurry; from RECOGNISABLE on
 * they usually read as the dataset's kind of picture (bench/first-hour.ts, Twemoji at 16²).
 */
export const QUALITY_BLURRY = 40;
export const QUALITY_RECOGNISABLE = 60;

/**
 * A file name people can type in a shell and a re-import will not mistake for data: letters and
 * digits (any script), '.', '_' and '-' stay, anything else becomes one '-'.
 * 'Run 1 · ada at 1.2 kimg walk' → 'Run-1-ada-at-1.2-kimg-walk'.
 */
export function plainFileName(name: string, fallback = 'export'): string {
  const plain = name
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return plain.slice(0, 120) || fallback;
}
