/** `atelier import <project> <path…>`: files, folders and zip archives into a project's dataset. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FitMode, ColourMode, ImportProgress, ImportReport, NormaliseSettings } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { startImport } from '../data/import-job.js';
import type { ImportOptions } from '../data/options.js';
import { JobManager } from '../jobs/job-manager.js';
import { Project } from '../store/project.js';
import { parseCommand, type CommandIO } from './args.js';
import { atelierCommand } from './next-step.js';

const USAGE = `Usage: atelier import <project.atelier> <path…> [options]

Imports image files, folders (recursively) and zip archives: PNG, JPEG, WebP, AVIF, TIFF, GIF, DICOM.
The first import fixes the project's normalisation; later ones reuse it and add only new files.

Options:
  --resolution N        side of the square images: 16, 32, 64, 128, 256, 512 or 1024 (default: from the data)
  --fit MODE            crop (centre crop, default), pad (fit inside, pad) or stretch
  --colour MODE         rgb or grayscale (default: from the data)
  --background #RRGGBB  what transparent pixels become (default #ffffff)
  --pad-colour #RRGGBB  the border with --fit pad (default #000000)
  --labels MODE         folders: first-level subfolder names become labels; none (default)
  --near-threshold N    near-duplicate distance in bits, 0–64, or off (default 4)
  --max-pixels N        skip images above this many pixels, checked on the header (default 100000000)
  --json                one JSON document: imported, duplicates, skipped [{file, reason}], …`;

const PROGRESS_EVERY_MS = 1000; // human progress lines at most once a second

export async function importCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    resolution: { type: 'string' },
    fit: { type: 'string' },
    colour: { type: 'string' },
    background: { type: 'string' },
    'pad-colour': { type: 'string' },
    labels: { type: 'string' },
    'near-threshold': { type: 'string' },
    'max-pixels': { type: 'string' },
  });
  if (values.help) return io.out(USAGE), 0;
  if (positionals.length < 2) throw new UserError('invalid-request', 'expected a project file and at least one file or folder. Usage: atelier import <project.atelier> <path…>');
  const [projectArg, ...sourceArgs] = positionals as [string, ...string[]];
  const sources = sourceArgs.map((s) => resolve(s));
  for (const s of sources) if (!existsSync(s)) throw new UserError('not-found', `${s} does not exist. Check the path and try again.`, s);

  const settings: Partial<NormaliseSettings> = {
    resolution: values.resolution === undefined ? undefined : intOption('--resolution', values.resolution as string),
    fit: oneOf<FitMode>('--fit', values.fit as string | undefined, ['crop', 'pad', 'stretch']),
    colourMode: oneOf<ColourMode>('--colour', values.colour as string | undefined, ['rgb', 'grayscale']),
    background: colourOption('--background', values.background as string | undefined),
    padColour: colourOption('--pad-colour', values['pad-colour'] as string | undefined),
  };
  const near = values['near-threshold'] as string | undefined;
  const options: Partial<ImportOptions> = {
    labels: oneOf('--labels', values.labels as string | undefined, ['folders', 'none'] as const),
    nearThreshold: near === undefined ? undefined : near === 'off' ? -1 : intOption('--near-threshold', near),
    maxPixels: values['max-pixels'] === undefined ? undefined : intOption('--max-pixels', values['max-pixels'] as string),
  };

  const project = Project.open(resolve(projectArg));
  let onSigint: (() => void) | null = null;
  try {
    // The command's own JobManager for the project it opened, as the studio has one per open project.
    const handle = await startImport(new JobManager(project), { sources, settings, options });
    if (!values.json) {
      const s = handle.settings;
      io.out(`Importing into ${project.path}: ${s.resolution}×${s.resolution} ${s.colourMode}, fit ${s.fit}. Ctrl+C stops and keeps what is imported.`);
      let last = 0;
      handle.onProgress((p) => {
        if (Date.now() - last < PROGRESS_EVERY_MS && p.done !== p.total) return;
        last = Date.now();
        io.out(progressLine(p));
      });
    }
    onSigint = () => {
      if (!values.json) io.out('Stopping: committing what is already imported…');
      handle.cancel();
    };
    process.once('SIGINT', onSigint);
    const report = await handle.done;
    // With images in the project, training is next; with none, another import.
    const images = project.summary().counts.images;
    const next = images > 0 ? atelierCommand('train', projectArg, '--preset', 'baseline') : atelierCommand('import', projectArg, 'FOLDER');
    if (values.json) io.out(JSON.stringify({ ...toJson(report), next }));
    else for (const line of [...summary(report), `Next: ${next}`]) io.out(line);
    if (report.status === 'failed') {
      if (!values.json) io.err(`atelier import: ${report.error ?? 'the import failed'}`);
      return 1;
    }
    return report.status === 'cancelled' ? 130 : 0;
  } finally {
    if (onSigint) process.off('SIGINT', onSigint);
    project.close();
  }
}

function toJson(r: ImportReport) {
  return {
    ok: r.status === 'done' || r.status === 'cancelled',
    importId: r.importId,
    status: r.status,
    settings: r.settings,
    total: r.total,
    imported: r.imported,
    duplicates: r.duplicates,
    unchanged: r.unchanged,
    skipped: r.skipped.map((s) => ({ file: s.file, reason: s.reason, code: s.code })),
    duplicatePairs: r.duplicatePairs,
    seconds: Math.round(r.seconds * 100) / 100,
    imagesPerSecond: Math.round(r.imagesPerSecond * 10) / 10,
    error: r.error,
  };
}

function progressLine(p: ImportProgress): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const eta = p.etaSeconds === null ? '' : ` · ETA ${p.etaSeconds} s`;
  return `  ${n(p.done)} / ${p.total === null ? '?' : n(p.total)} files · ${p.imagesPerSecond.toFixed(0)} images/s${eta} · ${n(p.imported)} imported, ${n(p.duplicates)} duplicates, ${n(p.skipped)} skipped`;
}

function summary(r: ImportReport): string[] {
  const lines = [
    `${r.status === 'done' ? 'Done' : r.status === 'cancelled' ? 'Cancelled' : 'Failed'} in ${r.seconds.toFixed(1)} s: ${r.imported} imported, ${r.duplicates} duplicates dropped, ${r.unchanged} already in the project, ${r.skipped.length} skipped.`,
  ];
  for (const d of r.duplicatePairs.slice(0, 20)) lines.push(`  duplicate (${d.kind}${d.kind === 'near' ? `, ${d.distance} bits` : ''}): ${d.file}  — kept ${d.keptFile}`);
  if (r.duplicatePairs.length > 20) lines.push(`  … and ${r.duplicatePairs.length - 20} more duplicates (--json lists them all)`);
  // The stored reason names what works in the studio too; the command line can also raise the limit.
  for (const s of r.skipped) lines.push(`  skipped: ${s.file} — ${s.reason}${s.code === 'too-large' && /pixels is above the limit/.test(s.reason) ? ' (Or raise the limit: --max-pixels N.)' : ''}`);
  return lines;
}

function intOption(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new UserError('invalid-request', `${name} must be a whole number, not "${raw}".`, name);
  return n;
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new UserError('invalid-request', `${name} must be one of ${allowed.join(', ')}, not "${raw}".`, name);
  return raw as T;
}

function colourOption(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const hex = raw.startsWith('#') ? raw : `#${raw}`;
  if (!/^#[0-9a-fA-F]{6}$/.test(hex)) throw new UserError('invalid-request', `${name} must be a colour like #ffffff, not "${raw}".`, name);
  return hex.toLowerCase();
}
