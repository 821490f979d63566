/**
 * Gallery domain of StudioApi: sampling a generator (a model, or a run's checkpoint), keeping
 * what it makes with where it came from. Seeds become z exactly as core/generator/latents.ts says;
 * samples use each layer's stored constant noise.
 */
import { z } from 'zod';
import type { ApiError } from './errors.js';
import type { ExportResult, ModelSummary } from './models.js';
import { empty, galleryId, gallerySource, projectPath, requestId, returns, sampleSpec, tagName } from './schemas.js';
import type { CheckpointSummary } from './train.js';
import type { GallerySource, RunStatusName, SampleSpec } from './vocabulary.js';


export interface GeneratorInfo {
  source: GallerySource;
  /** "Faces, 40 kimg" or "Run 3 · baseline at 12.8 kimg". */
  label: string;
  resolution: number;
  /** 1 (grayscale) or 3 (RGB). */
  channels: number;
  /** Class names, index = class (empty: unconditional). */
  classNames: string[];
  zDim: number;
  wDim: number;
  /** The compute backend the sampling worker runs on. */
  backend: string;
}

export interface GallerySources {
  models: ModelSummary[];
  /** Runs with at least one checkpoint, newest first. */
  runs: Array<{ id: number; name: string; status: RunStatusName; checkpoints: CheckpointSummary[] }>;
  /** Kept items whose generator is gone (listed with `gallery.items` and `orphaned: true`). */
  orphaned: number;
}


/** Where a kept image came from: enough to make it again, even after its model or checkpoint is gone. */
export interface ItemProvenance {
  /** "Faces, 40 kimg" or "Run 3 · baseline at 12.8 kimg". */
  generator: string;
  model: { id: number; name: string } | null;
  run: { id: number; name: string } | null;
  checkpoint: { id: number; kimg: number; step: number } | null;
  /** How it was made (the spec as asked for). */
  spec: SampleSpec;
  noise: 'const';
  latentAlgorithm: string;
  backend: string;
  studioVersion: string;
}

export interface GalleryItem {
  id: number;
  origin: 'seed' | 'interpolation' | 'arithmetic';
  seed: number | null;
  psi: number | null;
  classIndex: number | null;
  className: string | null;
  favourite: boolean;
  rejected: boolean;
  tags: string[];
  /** `data:image/png;base64,…` */
  png: string;
  modelId: number | null;
  checkpointId: number | null;
  runId: number | null;
  provenance: ItemProvenance;
  createdAt: string;
}

export interface GalleryPage {
  total: number;
  offset: number;
  items: GalleryItem[];
  /** Every tag in use, sorted. */
  tags: string[];
}


export const galleryMethods = {
  /** Models and runs' checkpoints the gallery can sample. */
  'gallery.sources': returns<GallerySources>()(empty),

  /** Loads a generator into the sampling worker; what it makes (size, classes, latent sizes). */
  'gallery.open': returns<GeneratorInfo>()(z.object({ source: gallerySource }).strict()),

  /**
   * Makes images in the sampling worker. Returns at once; each image arrives as a `gallery.image`
   * event with this `requestId`, and the end as `gallery.done`.
   */
  'gallery.sample': returns<{ requestId: string; count: number }>()(
    z.object({ source: gallerySource, specs: z.array(sampleSpec).min(1).max(256), requestId }).strict(),
  ),

  /** Drops sample requests not finished yet (the grid scrolled away, ψ changed). */
  'gallery.cancel': returns<{ cancelled: number }>()(z.object({ requestIds: z.array(requestId).max(1000) }).strict()),

  /** Keeps an image in the project with where it came from (made again in the worker from its spec). */
  'gallery.save': returns<GalleryItem>()(
    z.object({ source: gallerySource, spec: sampleSpec, favourite: z.boolean().optional(), rejected: z.boolean().optional(), tags: z.array(tagName).max(32).optional() }).strict(),
  ),

  /**
   * Kept items, newest first: all, favourites, rejected or neither; optionally one generator's, or
   * (`orphaned`) those whose generator is gone — its model deleted, its checkpoint pruned — or one tag's.
   */
  'gallery.items': returns<GalleryPage>()(
    z
      .object({
        source: gallerySource.optional(),
        orphaned: z.literal(true).optional(),
        filter: z.enum(['all', 'favourites', 'rejected', 'unrated']).optional(),
        tag: tagName.optional(),
        offset: z.number().int().min(0),
        limit: z.number().int().min(1).max(200),
      })
      .strict(),
  ),

  /** Favourite / reject / tag kept items (all or none); the items are re-read after the `gallery.changed` event. */
  'gallery.update': returns<{ updated: number[] }>()(
    z
      .object({
        ids: z.array(galleryId).min(1).max(10000),
        favourite: z.boolean().optional(),
        rejected: z.boolean().optional(),
        addTags: z.array(tagName).max(32).optional(),
        removeTags: z.array(tagName).max(32).optional(),
      })
      .strict(),
  ),

  /** Deletes kept items (the generator is untouched). */
  'gallery.delete': returns<{ deleted: number }>()(z.object({ ids: z.array(galleryId).min(1).max(10000) }).strict()),

  /**
   * Writes kept items as their stored PNGs (item-12.png, …) with manifest.json giving each one's
   * provenance, in a folder or a .zip (when `out` ends in .zip). Needs no generator: items of a
   * deleted model export too.
   */
  'gallery.exportItems': returns<ExportResult>()(
    z.object({ ids: z.array(galleryId).min(1).max(100000), out: projectPath, overwrite: z.boolean().optional() }).strict(),
  ),

  /** Writes frames (an interpolation strip) as an animated GIF or a folder of PNGs. */
  'gallery.exportStrip': returns<ExportResult>()(
    z
      .object({
        source: gallerySource,
        specs: z.array(sampleSpec).min(2).max(256),
        format: z.enum(['gif', 'png-sequence']),
        out: projectPath,
        fps: z.number().min(1).max(60).optional(),
        overwrite: z.boolean().optional(),
      })
      .strict(),
  ),

} as const;

export type GalleryEvent =
  | { type: 'gallery.image'; requestId: string; index: number; dataUrl: string }
  | { type: 'gallery.done'; requestId: string; count: number; error: ApiError | null }
  | { type: 'gallery.changed' };
