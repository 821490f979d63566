/**
 * Models domain of StudioApi: promoted and imported generators, and exporting them as files
 * (TF.js, ONNX, a standalone page, images).
 */
import { z } from 'zod';
import { classValue, empty, galleryId, gallerySource, modelName, projectPath, psiValue, requestId, returns, runId } from './schemas.js';
import type { ModelExportFormat } from './vocabulary.js';


export interface ModelSummary {
  id: number;
  name: string;
  /** Promoted from a checkpoint, or imported from a file exported by the studio. */
  source: 'checkpoint' | 'import';
  resolution: number;
  channels: number;
  classNames: string[];
  runId: number | null;
  runName: string | null;
  checkpointId: number | null;
  kimg: number | null;
  step: number | null;
  /** Metric series at the checkpoint ('Metrics/kid', 'Loss/G', …). */
  metrics: Record<string, number | null>;
  /** For an imported model: the file it came from. */
  importedFrom: string | null;
  /** For a merged model (the Merge view): the generators it was merged from, one per class, in class order. */
  mergedFrom: string[] | null;
  sizeBytes: number;
  createdAt: string;
  updatedAt: string | null;
}



export interface ExportResult {
  format: ModelExportFormat | 'gif' | 'png-sequence';
  /** The folder or file written. */
  path: string;
  /** Files written (relative to `path` for a folder). */
  files: string[];
  bytes: number;
  /** ONNX: the check against TF.js on fixed inputs, run before the file was written. */
  onnxCheck?: { maxAbsDiff: number; tolerance: number; samples: number };
  images?: number;
}

export interface ExportProgress {
  exportId: string;
  phase: string;
  done: number;
  total: number;
}

export const modelsMethods = {
  /** Every model of the open project, newest first. */
  'models.list': returns<ModelSummary[]>()(empty),

  /** Makes a named model from a run's checkpoint (its G_ema and the metrics at that point). */
  'models.promote': returns<ModelSummary>()(z.object({ runId, checkpointId: galleryId, name: modelName }).strict()),

  'models.rename': returns<ModelSummary>()(z.object({ modelId: galleryId, name: modelName }).strict()),

  /** Deletes a model; its gallery items, runs and checkpoints stay. */
  'models.delete': returns<ModelSummary[]>()(z.object({ modelId: galleryId }).strict()),

  /** Imports a TF.js export made by this studio (its folder, model.json or atelier.json) as a model. */
  'models.import': returns<ModelSummary>()(z.object({ path: projectPath, name: modelName.optional() }).strict()),

  /**
   * Exports a generator: tfjs (a folder for @tensorflow/tfjs), onnx (a file, checked against TF.js
   * before it is written), html (a folder that samples in any browser), images (PNGs of seeds with a
   * provenance manifest, in a folder or a .zip). Progress arrives as `export.progress` events.
   * Kept items are exported with `gallery.exportItems`.
   */
  'models.export': returns<ExportResult>()(
    z
      .object({
        source: gallerySource,
        format: z.enum(['tfjs', 'onnx', 'html', 'images']),
        out: projectPath,
        overwrite: z.boolean().optional(),
        exportId: requestId.optional(),
        images: z
          .object({
            seeds: z.string().min(1).max(2000).optional(),
            psi: psiValue.optional(),
            classIndex: classValue.optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
  ),

  /** Desktop: a native dialog to pick a generator export to import (a folder or its model.json). Null if cancelled. */
  'dialog.pickModelImport': returns<{ path: string | null }>()(empty),

} as const;

export type ModelsEvent = { type: 'models.changed'; models: ModelSummary[] } | { type: 'export.progress'; progress: ExportProgress };
