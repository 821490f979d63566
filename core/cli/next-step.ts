/**
 * The likely next command after one finishes, so a command never ends in a dead end. Each
 * command prints `Next: …` (text) or carries `next` (JSON) from here.
 */
import { dirname, join } from 'node:path';
import type { RunStatus } from '../store/runs.js';

/** A path or word as a POSIX shell reads it back: quoted only when it must be. */
export function shellArg(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `atelier <words…>` with each argument quoted as needed. */
export function atelierCommand(...args: string[]): string {
  return ['atelier', ...args.map(shellArg)].join(' ');
}

/** What a project needs next, from what it holds. */
export function nextForProject(project: string, state: { images: number; runs: ReadonlyArray<{ id: number; status: RunStatus; checkpoints: number }> }): string {
  if (state.images === 0) return atelierCommand('import', project, 'FOLDER');
  if (state.runs.length === 0) return atelierCommand('train', project, '--preset', 'baseline');
  // Newest first: a run left paused, stopped or failed resumes; otherwise look at what one made.
  const unfinished = state.runs.find((r) => (r.status === 'paused' || r.status === 'stopped' || r.status === 'failed') && r.checkpoints > 0);
  if (unfinished) return atelierCommand('train', project, '--resume', String(unfinished.id));
  const withCheckpoint = state.runs.find((r) => r.checkpoints > 0);
  if (withCheckpoint) return nextForRun(project, withCheckpoint.id);
  return atelierCommand('runs', project);
}

/** After a run has checkpoints: look at its images (the gallery's ψ and class). */
export function nextForRun(project: string, runId: number, checkpointId?: number): string {
  return atelierCommand('sample', project, '--run', checkpointId === undefined ? String(runId) : `${runId}:${checkpointId}`, '--seeds', '0-15', '--out', sampleFolder(project, runId));
}

/** After images of a generator: make it a file others can open (a page that samples it offline). */
export function nextForSamples(project: string, generator: { model?: string; run?: string }): string {
  const which = generator.model !== undefined ? ['--model', generator.model] : ['--run', generator.run ?? 'RUN'];
  return atelierCommand('export', project, ...which, '--format', 'html');
}

/** `faces-run-3-samples` beside the project file (as the project was named: relative stays relative). */
export function sampleFolder(project: string, runId: number): string {
  const base = project.replace(/^.*[\\/]/, '').replace(/\.atelier$/i, '');
  return join(dirname(project), `${base}-run-${runId}-samples`);
}

/** After a merge made a model: look at one of its classes (the gallery's class picker). */
export function nextForMerge(project: string, model: string, className: string, mergeId: number): string {
  const base = project.replace(/^.*[\\/]/, '').replace(/\.atelier$/i, '');
  return atelierCommand('sample', project, '--model', model, '--seeds', '0-15', '--class', className, '--out', join(dirname(project), `${base}-merge-${mergeId}-samples`));
}
