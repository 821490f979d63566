/** `atelier new` and `atelier info`. */
import { resolve } from 'node:path';
import { UserError } from '../api/errors.js';
import type { ProjectSummary } from '../api/contract.js';
import { Project } from '../store/project.js';
import { withProjectExtension } from '../service/paths.js';
import { APP_VERSION } from '../api/version.js';
import { DatasetStore } from '../store/dataset.js';
import { parseCommand, type CommandIO } from './args.js';
import { atelierCommand, nextForProject } from './next-step.js';
import { runLines, runRows } from './runs-command.js';

function projectArg(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UserError('invalid-request', `expected one project file. Usage: ${usage}`);
  return resolve(positionals[0]!);
}

export function newCommand(argv: string[], io: CommandIO): number {
  const usage = 'atelier new <project.atelier> [--name NAME] [--json]';
  const { values, positionals } = parseCommand(argv, { name: { type: 'string' } });
  if (values.help) return io.out(usage), 0;
  const path = withProjectExtension(projectArg(positionals, usage));
  const name = typeof values.name === 'string' ? values.name : undefined;
  const project = Project.create(path, name ?? defaultName(path), { appVersion: APP_VERSION });
  try {
    const summary = project.summary();
    const next = atelierCommand('import', withProjectExtension(positionals[0]!), 'FOLDER');
    io.out(values.json ? JSON.stringify({ ok: true, project: summary, next }) : `Created ${summary.path} ("${summary.name}", project format ${summary.schemaVersion}).\nNext: ${next}  (add --labels folders when each sub-folder is a class)`);
  } finally {
    project.close();
  }
  return 0;
}

export function infoCommand(argv: string[], io: CommandIO): number {
  const usage = 'atelier info <project.atelier> [--json]';
  const { values, positionals } = parseCommand(argv, {});
  if (values.help) return io.out(usage), 0;
  const project = Project.inspect(projectArg(positionals, usage));
  try {
    const summary = project.summary();
    const labels = new DatasetStore(project.db).labels().map((l) => ({ name: l.name, images: l.count }));
    const runs = runRows(project);
    const next = nextForProject(positionals[0]!, { images: summary.counts.images, runs });
    io.out(values.json ? JSON.stringify({ ok: true, project: summary, labels, runs, next }) : [describe(summary), ...labelLines(labels), ...(runs.length > 0 ? ['  runs, newest first:', ...runLines(runs).map((l) => `  ${l}`)] : []), `Next: ${next}`].join('\n'));
  } finally {
    project.close();
  }
  return 0;
}

function labelLines(labels: ReadonlyArray<{ name: string; images: number }>): string[] {
  if (labels.length === 0) return [];
  return [`  labels: ${labels.map((l) => `${l.name} (${l.images})`).join(', ')}`];
}

function defaultName(path: string): string {
  return path.replace(/^.*[\\/]/, '').replace(/\.atelier$/i, '');
}

function describe(s: ProjectSummary): string {
  const c = s.counts;
  return [
    `${s.name}  (${s.path})`,
    `  project format ${s.schemaVersion}, created ${s.createdAt} by GAN Atelier ${s.createdBy}, ${(s.sizeBytes / 1024).toFixed(0)} KiB`,
    `  images ${c.images}, labels ${c.labels}, runs ${c.runs}, checkpoints ${c.checkpoints}, models ${c.models}, gallery items ${c.galleryItems}`,
  ].join('\n');
}
