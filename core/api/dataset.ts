/**
 * Dataset domain of StudioApi: import, normalisation, labels, duplicates, skipped files. Defaults
 * and a comment for every option live in core/data/options.ts.
 */
import { z } from 'zod';
import { empty, projectPath, returns } from './schemas.js';
import type { ColourMode, FitMode } from './vocabulary.js';

/** How every image of a project is normalised; chosen once per project and stored in it. */
export interface NormaliseSettings {
  /** Side of the square images, a power of two from 16 to 1024. */
  resolution: number;
  /** crop: centre crop to a square; pad: fit inside, pad with `padColour`; stretch: ignore the aspect ratio. */
  fit: FitMode;
  /** '#rrggbb' around the image when fit is 'pad'. */
  padColour: string;
  colourMode: ColourMode;
  /** '#rrggbb' that transparent pixels are composited onto. */
  background: string;
}

/** Why a file was not imported. */
export type SkipCode =
  | 'empty' // 0 bytes
  | 'not-an-image' // not a format the studio reads (text, archives inside folders, …)
  | 'unsupported' // an image format or variant the studio cannot decode (e.g. BMP)
  | 'corrupt' // truncated or damaged
  | 'too-large' // above the pixel or file-size limit (checked on the header, before decoding)
  | 'dicom-no-pixels' // a DICOM file without pixel data (a report, a structured document)
  | 'dicom-unsupported' // a DICOM encoding the studio cannot decode (e.g. JPEG 2000)
  | 'unreadable'; // permissions, or the file vanished

export interface SkippedFile {
  /** The file as the user knows it; inside a zip: `archive.zip!/folder/name.png`. */
  file: string;
  code: SkipCode;
  /** One sentence: what is wrong and what to do. */
  reason: string;
}

export interface DuplicatePair {
  kind: 'exact' | 'near';
  /** The copy that was dropped. */
  file: string;
  /** The copy that was kept (already in the project, or earlier in this import). */
  keptFile: string;
  /** Null once the kept image has been removed from the dataset. */
  keptImageId: number | null;
  /** Hamming distance of the perceptual hashes (0 for exact duplicates). */
  distance: number;
}

export type ImportStatus = 'running' | 'done' | 'cancelled' | 'failed' | 'interrupted';

export interface ImportProgress {
  importId: number;
  /** Files looked at so far, of `total` (null while the sources are still being listed). */
  done: number;
  total: number | null;
  imported: number;
  duplicates: number;
  skipped: number;
  /** Files already in the project from an earlier import (same bytes). */
  unchanged: number;
  /** Files per second over the last few seconds. */
  imagesPerSecond: number;
  /** Seconds left at the current rate; null when unknown. */
  etaSeconds: number | null;
}

export interface ImportReport {
  importId: number;
  status: ImportStatus;
  sources: string[];
  settings: NormaliseSettings;
  startedAt: string;
  finishedAt: string | null;
  total: number;
  imported: number;
  unchanged: number;
  duplicates: number;
  skipped: SkippedFile[];
  duplicatePairs: DuplicatePair[];
  seconds: number;
  imagesPerSecond: number;
  /** Why the import failed, when it did. */
  error: string | null;
}

export interface LabelCount {
  id: number;
  name: string;
  /** Class index in exports (labels ordered by id). */
  classIndex: number;
  count: number;
}

export interface DatasetStats {
  images: number;
  settings: NormaliseSettings | null;
  labels: LabelCount[];
  unlabelled: number;
  /** Copies dropped by every import so far (exact + near). */
  duplicatesDropped: number;
  /** Source files whose images the user removed: later imports leave them out until allowed back. */
  removed: number;
  /** Every file that could not be imported (latest reason per file). */
  skipped: SkippedFile[];
  skippedByCode: Array<{ code: SkipCode; count: number }>;
  /** The import now running, if any. */
  importing: ImportProgress | null;
  lastImport: { importId: number; status: ImportStatus; finishedAt: string | null; imported: number } | null;
}

export interface DatasetItem {
  id: number;
  labelId: number | null;
  label: string | null;
  /** `data:image/png;base64,…`: ready for an <img>. */
  thumb: string;
}

export interface DatasetPage {
  total: number;
  offset: number;
  items: DatasetItem[];
}

export interface DatasetImage {
  id: number;
  labelId: number | null;
  label: string | null;
  /** The normalised image, `data:image/png;base64,…`. */
  png: string;
  width: number;
  height: number;
  channels: number;
  source: { path: string; format: string; width: number | null; height: number | null; bitDepth: number | null; frame: number | null; hash: string | null };
  createdAt: string;
}

export interface SuggestedSettings {
  settings: NormaliseSettings;
  /** Files looked at. */
  sampled: number;
  /** Median of the shorter side of the sampled images. */
  medianShortSide: number | null;
  /** Why each value was suggested, in words for the dialog. */
  reasons: string[];
  /** The picked folders' first-level subfolders, for labels from folders. */
  folders: FolderSummary;
}

export interface FolderSummary {
  /** Every file of the picked sources sits in a first-level subfolder of a picked folder or zip (then labels from folders are suggested). */
  allInFolders: boolean;
  /** First-level subfolders and their files, most files first. */
  classes: Array<{ name: string; files: number }>;
  /** Subfolders with few files beside the others (fewer than 8, or than a fifth of the median): flagged, with a choice. */
  tiny: string[];
}

export interface DatasetExportResult {
  path: string;
  images: number;
  /** False when the archive has `"labels": null`. */
  labelled: boolean;
  classes: string[];
  bytes: number;
}


const hexColour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'Use a colour like #ffffff.');
const normaliseSettings = z
  .object({
    resolution: z
      .number()
      .int()
      .refine((n) => n >= 16 && n <= 1024 && (n & (n - 1)) === 0, 'The resolution must be a power of two from 16 to 1024.'),
    fit: z.enum(['crop', 'pad', 'stretch']),
    padColour: hexColour,
    colourMode: z.enum(['rgb', 'grayscale']),
    background: hexColour,
  })
  .strict();
const importSources = z.array(projectPath).min(1, 'Pick at least one file or folder.').max(10_000);
const imageIds = z.array(z.number().int().positive()).min(1).max(1_000_000);
const labelName = z.string().trim().min(1, 'The label is empty.').max(200, 'The label is longer than 200 characters.');

export const datasetMethods = {
  /** Desktop: a native dialog to pick files, folders or zips to import (granted to this session). Empty if cancelled. */
  'dialog.pickImportSources': returns<{ paths: string[] }>()(z.object({ kind: z.enum(['files', 'folder']) }).strict()),

  /** Suggested normalisation for these sources (resolution, colour mode) from a sample of them. */
  'dataset.suggest': returns<SuggestedSettings>()(z.object({ sources: importSources }).strict()),

  /** The project's stored normalisation, or null before the first import. */
  'dataset.settings': returns<NormaliseSettings | null>()(empty),

  /**
   * Starts importing files, folders and zip archives into the open project. Returns at once;
   * progress arrives as `import.progress` events and the end as `import.finished`.
   */
  'dataset.import': returns<{ importId: number; settings: NormaliseSettings }>()(
    z
      .object({
        sources: importSources,
        settings: normaliseSettings.partial().optional(),
        labels: z.enum(['none', 'folders']).optional(),
        nearThreshold: z.number().int().min(-1).max(64).optional(),
        /** With labels from folders: folders whose images come in without a label, and folders left out. */
        unlabelledFolders: z.array(labelName).max(1000).optional(),
        leaveOutFolders: z.array(labelName).max(1000).optional(),
      })
      .strict(),
  ),

  /** Stops the running import; what was committed stays. False when none was running. */
  'dataset.cancelImport': returns<{ cancelled: boolean }>()(empty),

  /** Progress of the running import, or null. */
  'dataset.importStatus': returns<ImportProgress | null>()(empty),

  /** The report of one import (default: the latest), or null when there was none. */
  'dataset.report': returns<ImportReport | null>()(z.object({ importId: z.number().int().positive().optional() }).strict()),

  /** Counts per label, duplicates dropped, skipped files with reasons, the normalisation. */
  'dataset.stats': returns<DatasetStats>()(empty),

  /** A page of thumbnails for a virtualised grid, in import order. */
  'dataset.page': returns<DatasetPage>()(
    z
      .object({
        offset: z.number().int().min(0),
        limit: z.number().int().min(1).max(500),
        /** A label id, 'unlabelled', or absent for every image. */
        label: z.union([z.number().int().positive(), z.literal('unlabelled')]).optional(),
      })
      .strict(),
  ),

  /** One image at full (normalised) size with its provenance. */
  'dataset.image': returns<DatasetImage>()(z.object({ id: z.number().int().positive() }).strict()),

  /** Removes images from the dataset. */
  'dataset.remove': returns<DatasetStats>()(z.object({ ids: imageIds }).strict()),

  /** Lets files whose images were removed be imported again (by the next import of them). */
  'dataset.forgetRemoved': returns<DatasetStats>()(empty),

  /** Gives images a label (created if new), or none with null. */
  'dataset.relabel': returns<DatasetStats>()(z.object({ ids: imageIds, label: labelName.nullable() }).strict()),

  /** Renames a label; onto an existing name, the two labels merge. */
  'dataset.renameLabel': returns<DatasetStats>()(z.object({ id: z.number().int().positive(), name: labelName }).strict()),

  /** Writes the dataset as a StyleGAN2-ADA zip (PNGs + dataset.json). */
  'dataset.export': returns<DatasetExportResult>()(
    z.object({ out: projectPath, labels: z.enum(['auto', 'none']).optional(), overwrite: z.boolean().optional() }).strict(),
  ),
  /** The presets, with what the studio suggests for the open dataset; defaults are null without images. */
} as const;

export type DatasetEvent =
  | { type: 'import.progress'; progress: ImportProgress }
  | { type: 'import.finished'; report: ImportReport }
  | { type: 'dataset.changed'; stats: DatasetStats };
