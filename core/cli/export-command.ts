/**
 * `atelier export <project> --format F --out PATH`: files others can use. Formats plug into the
 * table below; `dataset` (a StyleGAN2-ADA zip) needs no model, the others arrive with the models.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../api/errors.js';
import { exportDatasetZip } from '../export/dataset-zip.js';
import { DatasetStore } from '../store/dataset.js';
import { Project } from '../store/project.js';
import { parseCommand, type CommandIO } from './args.js';

const USAGE = `Usage: atelier export <project.atelier> --format FORMAT [--out PATH] [options]

Formats:
  dataset   the dataset as a StyleGAN2-ADA zip (PNGs + dataset.json with labels), for train.py --data=…

Options:
  --out PATH        the file to write (default: beside the project, <name>-<format>.zip)
  --labels MODE     auto (labels when every image has one, default) or none
  --force           replace an existing file
  --json            one JSON document`;

interface ExportArgs {
  project: Project;
  out: string;
  labels: 'auto' | 'none';
  force: boolean;
  model: string | undefined;
}

/** What an exporter hands back: the JSON fields, and one line for people. */
type Exporter = (args: ExportArgs) => Promise<{ json: Record<string, unknown>; text: string }>;

const exporters: Record<string, Exporter> = {
  dataset: async ({ project, out, labels, force }) => {
    const r = await exportDatasetZip(new DatasetStore(project.db), out, { labels, overwrite: force });
    const classes = r.labelled ? `${r.classes.length} classes (${r.classes.join(', ')})` : 'no labels';
    return { json: { ...r }, text: `Wrote ${r.path}: ${r.images} images, ${classes}, ${(r.bytes / 1e6).toFixed(1)} MB. Train with StyleGAN2-ADA: python train.py --outdir=training-runs --data=${r.path}${r.labelled ? ' --cond=1' : ''}` };
  },
};

/** Formats ARCHITECTURE.md lists that need a trained model: not in this build yet. */
const LATER = ['tfjs', 'onnx', 'html', 'images'];

export async function exportCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    format: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    labels: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) return io.out(USAGE), 0;
  if (positionals.length !== 1) throw new UserError('invalid-request', `expected one project file. ${USAGE.split('\n')[0]}`);
  const format = values.format as string | undefined;
  if (!format) throw new UserError('invalid-request', `--format is required: ${Object.keys(exporters).join(', ')}.`, '--format');
  const exporter = exporters[format];
  if (!exporter) {
    if (LATER.includes(format)) throw new UserError('unavailable', `--format ${format} exports a trained model and is not available in this build yet. Available now: ${Object.keys(exporters).join(', ')}.`, '--format');
    throw new UserError('invalid-request', `Unknown --format "${format}". Available: ${Object.keys(exporters).join(', ')}.`, '--format');
  }
  const projectPath = resolve(positionals[0]!);
  const out = typeof values.out === 'string' ? resolve(values.out) : `${projectPath.replace(/\.atelier$/i, '')}-${format}.zip`;
  const parent = dirname(out);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new UserError('not-found', `The folder ${parent} does not exist. Create it, or pick another --out.`, parent);
  const labels = values.labels === undefined ? 'auto' : values.labels;
  if (labels !== 'auto' && labels !== 'none') throw new UserError('invalid-request', `--labels must be auto or none, not "${labels}".`, '--labels');

  const project = Project.open(projectPath);
  try {
    const result = await exporter({ project, out, labels, force: values.force === true, model: values.model as string | undefined });
    io.out(values.json ? JSON.stringify({ ok: true, format, ...result.json }) : result.text);
    return 0;
  } finally {
    project.close();
  }
}
