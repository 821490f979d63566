/**
 * Starting an import from the service or the CLI: settle the normalisation (stored, requested,
 * suggested, default — in that order), create the `imports` row, start the import worker as a
 * job of the project's JobManager (kind 'import') and hand back `{progress events, cancel(),
 * done}`. The work happens in the worker; this side only relays, so the caller's event loop
 * stays free.
 */
import type { ImportProgress, ImportReport, NormaliseSettings } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { EndedJob, JobManager } from '../jobs/job-manager.js';
import type { JobSpec } from '../jobs/kinds.js';
import { DatasetStore } from '../store/dataset.js';
import { ImportStore } from '../store/imports.js';
import { DEFAULT_IMPORT, DEFAULT_NORMALISE, isValidResolution, type ImportOptions } from './options.js';
import { suggestSettings } from './suggest.js';

export const IMPORT_WORKER = new URL('./import-worker.ts', import.meta.url);
const CANCEL_GRACE_MS = 15_000; // after a cancel, how long the worker may take to commit and exit before it is killed

export interface ImportRequest {
  /** Absolute paths the caller has already checked against its path policy. */
  sources: string[];
  settings?: Partial<NormaliseSettings>;
  options?: Partial<ImportOptions>;
}

export interface ImportHandle {
  importId: number;
  /** The job it runs as. */
  jobId: number;
  settings: NormaliseSettings;
  /** The worker's process id (tests, diagnostics). */
  pid: number | undefined;
  /** Listens to progress; returns an unsubscribe. */
  onProgress(listener: (p: ImportProgress) => void): () => void;
  /** The latest progress, or null before the first report. */
  latest(): ImportProgress | null;
  /** Asks the worker to stop; what it has decided is committed. */
  cancel(): void;
  /** Resolves with the report however the import ended (done, cancelled, failed). */
  done: Promise<ImportReport>;
}

/**
 * The settings an import will use. A project with images keeps its stored settings: asking for
 * different ones is an error (the dataset would mix sizes). Without images, requested values
 * win, then stored ones, then a suggestion from the data, then the defaults.
 */
export async function resolveSettings(store: DatasetStore, sources: string[], requested: Partial<NormaliseSettings> = {}): Promise<NormaliseSettings> {
  const stored = store.settings();
  const given = Object.fromEntries(Object.entries(requested).filter(([, v]) => v !== undefined)) as Partial<NormaliseSettings>;
  if (stored && store.imageCount() > 0) {
    for (const [key, value] of Object.entries(given) as Array<[keyof NormaliseSettings, unknown]>) {
      if (value !== stored[key]) {
        throw new UserError(
          'invalid-request',
          `This project's images are already normalised with ${key} = ${JSON.stringify(stored[key])}; ${JSON.stringify(value)} would mix two kinds of images in one dataset. ` +
            `Leave ${key} out to import with the project's settings, or start a new project.`,
          key,
        );
      }
    }
    return stored;
  }
  let base: NormaliseSettings = stored ?? { ...DEFAULT_NORMALISE };
  if (!stored && (given.resolution === undefined || given.colourMode === undefined)) base = (await suggestSettings(sources)).settings;
  const settings = { ...base, ...given };
  if (!isValidResolution(settings.resolution)) {
    throw new UserError('invalid-request', `The resolution must be a power of two from 16 to 1024 (16, 32, 64, 128, 256, 512 or 1024), not ${settings.resolution}.`, 'resolution');
  }
  return settings;
}

export function resolveOptions(partial: Partial<ImportOptions> = {}): ImportOptions {
  const options: ImportOptions = { ...DEFAULT_IMPORT, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  if (!Number.isInteger(options.nearThreshold) || options.nearThreshold < -1 || options.nearThreshold > 64) {
    throw new UserError('invalid-request', `The near-duplicate threshold must be a whole number of bits from 0 to 64, or -1 (off), not ${options.nearThreshold}.`, 'nearThreshold');
  }
  if (!(options.maxPixels > 0)) throw new UserError('invalid-request', `The pixel limit must be positive, not ${options.maxPixels}.`, 'maxPixels');
  return options;
}

/** Settles settings and options, records the import and starts its worker under `jobs` (the project's JobManager). */
export async function startImport(jobs: JobManager, request: ImportRequest): Promise<ImportHandle> {
  if (request.sources.length === 0) throw new UserError('invalid-request', 'Nothing to import: pick at least one file, folder or zip archive.');
  const dataset = new DatasetStore(jobs.project.db);
  const imports = new ImportStore(jobs.project.db);
  const options = resolveOptions(request.options);
  const settings = await resolveSettings(dataset, request.sources, request.settings);
  if (dataset.imageCount() === 0) dataset.saveSettings(settings);
  imports.markInterrupted();
  const importId = imports.beginImport(request.sources, settings, options);

  const listeners = new Set<(p: ImportProgress) => void>();
  let latest: ImportProgress | null = null;
  let cancelRequested = false;
  const { job, done } = jobs.start({
    kind: 'import',
    entry: IMPORT_WORKER,
    params: { importId, sources: request.sources, settings, options },
    stopGraceMs: CANCEL_GRACE_MS,
    onProgress: (progress) => {
      latest = progress;
      for (const l of listeners) l(progress);
    },
  });
  imports.setImportPid(importId, job.pid);

  /** However the job ended, the import's row says how; a worker that died leaves it 'running' until here. */
  const settle = (ended: EndedJob<'import', JobSpec<'import'>>): ImportReport => {
    listeners.clear();
    if (imports.status(importId) === 'running') {
      if (cancelRequested) imports.finishImport(importId, 'cancelled');
      else imports.finishImport(importId, 'failed', ended.exit ? diedMessage(ended.exit) : (ended.error ?? diedMessage(null)));
    }
    return imports.report(importId)!;
  };

  return {
    importId,
    jobId: job.id,
    settings,
    pid: job.pid ?? undefined,
    onProgress(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    latest: () => latest,
    cancel() {
      if (cancelRequested || !jobs.isRunning(job.id)) return;
      cancelRequested = true;
      jobs.control(job.id, 'stop');
    },
    done: done.then(settle),
  };
}

function diedMessage(exit: { code: number | null; signal: NodeJS.Signals | null } | null): string {
  const how = exit === null ? 'it could not start' : exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  return `The import worker stopped unexpectedly (${how}). What was committed before is kept; import the same files again to finish.`;
}
