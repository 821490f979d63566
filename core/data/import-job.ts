/**
 * Starting an import from the service or the CLI: settle the normalisation (stored, requested,
 * suggested, default — in that order), create the `imports` row, fork the import worker and hand
 * back `{progress events, cancel(), done}`. The work happens in the worker; this side only relays,
 * so the caller's event loop stays free.
 */
import type { ChildProcess } from 'node:child_process';
import type { ImportProgress, ImportReport, NormaliseSettings } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { forkWorker } from '../jobs/fork-worker.js';
import { diskFullMessage, isDiskFull } from '../store/disk-full.js';
import type { DatasetStore } from '../store/dataset.js';
import type { ImportJob } from './import-pipeline.js';
import type { FromWorker, ToWorker } from './import-worker.js';
import { DEFAULT_IMPORT, DEFAULT_NORMALISE, isValidResolution, type ImportOptions } from './options.js';
import { suggestSettings } from './suggest.js';

const CANCEL_GRACE_MS = 15_000; // after a cancel, how long the worker may take to commit and exit before it is killed

export interface ImportRequest {
  /** Absolute paths the caller has already checked against its path policy. */
  sources: string[];
  settings?: Partial<NormaliseSettings>;
  options?: Partial<ImportOptions>;
  /** A folder nothing may be read outside of, links inside the sources included (the browser mode's root). */
  confine?: string | null;
}

export interface ImportHandle {
  importId: number;
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
export async function resolveSettings(store: DatasetStore, sources: string[], requested: Partial<NormaliseSettings> = {}, confine: string | null = null): Promise<NormaliseSettings> {
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
  if (!stored && (given.resolution === undefined || given.colourMode === undefined)) base = (await suggestSettings(sources, confine)).settings;
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

/** Settles settings and options, records the import and starts the worker. */
export async function startImport(projectPath: string, store: DatasetStore, request: ImportRequest): Promise<ImportHandle> {
  if (request.sources.length === 0) throw new UserError('invalid-request', 'Nothing to import: pick at least one file, folder or zip archive.');
  const options = resolveOptions(request.options);
  const settings = await resolveSettings(store, request.sources, request.settings, request.confine ?? null);
  if (store.imageCount() === 0) store.saveSettings(settings);
  store.markInterrupted();
  const importId = store.beginImport(request.sources, settings, options);
  const job: ImportJob = { projectPath, importId, sources: request.sources, settings, options, confine: request.confine ?? null };
  return launch(job, store);
}

function launch(job: ImportJob, store: DatasetStore): ImportHandle {
  const { projectPath } = job;
  const listeners = new Set<(p: ImportProgress) => void>();
  let latest: ImportProgress | null = null;
  let child: ChildProcess;
  let report: ImportReport | null = null;
  let failure: string | null = null;
  let cancelTimer: NodeJS.Timeout | null = null;
  let cancelRequested = false;

  const done = new Promise<ImportReport>((resolve) => {
    child = forkWorker(new URL('./import-worker.ts', import.meta.url));
    store.setImportPid(job.importId, child.pid ?? null);
    child.send({ type: 'start', job } satisfies ToWorker);
    child.on('message', (msg: FromWorker) => {
      if (msg.type === 'progress') {
        latest = msg.progress;
        for (const l of listeners) l(msg.progress);
      } else if (msg.type === 'done') report = msg.report;
      else failure = msg.message;
    });
    const finish = (how: string): void => {
      if (cancelTimer) clearTimeout(cancelTimer);
      if (report) return resolve(report);
      // The worker ended without a report: record why, keep what it committed.
      const current = store.report(job.importId)!;
      if (current.status !== 'running') return resolve(current);
      const status = cancelRequested ? 'cancelled' : 'failed';
      const error = cancelRequested ? null : (failure ?? `The import worker stopped unexpectedly (${how}). What was committed before is kept; import the same files again to finish.`);
      try {
        store.finishImport(job.importId, status, error ?? undefined);
        resolve(store.report(job.importId)!);
      } catch (err) {
        // The disk is full (what stopped the worker, most likely): the report says so; the row is repaired on the next import.
        const why = isDiskFull(err) ? diskFullMessage(projectPath) : error;
        resolve({ ...current, status, error: status === 'failed' ? why : null });
      }
    };
    child.once('error', (err) => {
      failure ??= `Cannot start the import worker: ${err.message}`;
      finish('it could not start');
    });
    child.once('exit', (code, signal) => finish(signal ? `signal ${signal}` : `exit code ${code}`));
  });

  return {
    importId: job.importId,
    settings: job.settings,
    get pid() {
      return child.pid;
    },
    onProgress(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    latest: () => latest,
    cancel() {
      if (cancelRequested || child.exitCode !== null || child.signalCode !== null) return;
      cancelRequested = true;
      if (child.connected) child.send({ type: 'cancel' } satisfies ToWorker);
      cancelTimer = setTimeout(() => child.kill('SIGKILL'), CANCEL_GRACE_MS);
      cancelTimer.unref();
    },
    done: done.then((r) => {
      listeners.clear();
      return r;
    }),
  };
}
