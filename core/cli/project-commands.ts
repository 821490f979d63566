/** `atelier new` and `atelier info`. */
import { resolve } from 'node:path';
import { UserError } from '../api/errors.js';
import type { ProjectSummary } from '../api/contract.js';
import { Project } from '../store/project.js';
import { withProjectExtension } from '../service/paths.js';
import { APP_VERSION } from '../api/version.js';
import { parseCommand, type CommandIO } from './args.js';

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
    io.out(values.json ? JSON.stringify({ ok: true, project: summary }) : `Created ${summary.path} ("${summary.name}", project format ${summary.schemaVersion}).`);
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
    io.out(values.json ? JSON.stringify({ ok: true, project: summary }) : describe(summary));
  } finally {
    project.close();
  }
  return 0;
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
