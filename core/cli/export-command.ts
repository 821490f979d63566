/**
 * `atelier export <project> --format F --out PATH`: files others can use without the studio.
 *
 *   dataset   the dataset as a StyleGAN2-ADA zip (no generator needed)
 *   tfjs      a generator as a TF.js GraphModel folder (with atelier.json and a Node loader)
 *   onnx      a generator as one ONNX file, checked against TF.js before it is written
 *   html      a folder that samples the generator in any browser, offline
 *   images    PNGs from seeds with a provenance manifest (a folder, or a .zip)
 *
 * Generator formats take --model M or --run RUN[:CHECKPOINT] and run in the sampling worker.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { plainFileName } from '../api/vocabulary.js';
import { exportFolderFor } from '../service/paths.js';
import { ImportStore } from '../store/imports.js';
import type { ExportResult, ModelExportFormat } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { exportDatasetZip } from '../export/dataset-zip.js';
import { SamplerClient } from '../gallery/sampler-client.js';
import { DatasetStore } from '../store/dataset.js';
import { Project } from '../store/project.js';
import { parseCommand, type CommandIO } from './args.js';
import { generatorSource } from './generator-option.js';
import { shellArg } from './next-step.js';
import { backendOption, exportSeedImages, psiOption } from './sample-command.js';

const USAGE = `Usage: atelier export <project.atelier> --format FORMAT [--out PATH] [options]

Formats:
  dataset   the dataset as a StyleGAN2-ADA zip (PNGs + dataset.json with labels), for train.py --data=…
  tfjs      the generator as a TF.js GraphModel folder: model.json, weights, atelier.json, a Node loader
  onnx      the generator as an ONNX file (opset 17), checked with ONNX Runtime before it is written
  html      a folder with index.html that samples the generator in any browser, offline
  images    PNGs from --seeds with manifest.json (a folder, or a .zip when PATH ends in .zip)

Options:
  --model M         (tfjs, onnx, html, images) a model, by name or id
  --run RUN[:CP]    (tfjs, onnx, html, images) a run's checkpoint instead (default: its best, else its newest)
  --out PATH        where to write (default: <name>-exports/<name>-<format>… beside the project file)
  --seeds LIST      (images) e.g. 0-99 (default 0-15)
  --psi P           (images) truncation ψ (default 0.7, as the Gallery opens)
  --class C         (images) class name or index
  --labels MODE     (dataset) auto (labels when every image has one, default) or none
  --backend NAME    (generator formats) wasm, cpu, … (default: ATELIER_BACKEND, else the best that loads)
  --force           replace an existing file or folder
  --json            one JSON document`;

interface ExportArgs {
  project: Project;
  format: string;
  out: string;
  labels: 'auto' | 'none';
  force: boolean;
  values: Record<string, unknown>;
}

const GENERATOR_FORMATS: readonly ModelExportFormat[] = ['tfjs', 'onnx', 'html', 'images'];

/** What an exporter hands back: the JSON fields, and one line for people. */
type Exporter = (args: ExportArgs) => Promise<{ json: Record<string, unknown>; text: string }>;

const exportDataset: Exporter = async ({ project, out, labels, force }) => {
  const r = await exportDatasetZip(new DatasetStore(project.db), out, { labels, overwrite: force, forceHint: 'pass --force to replace it' });
  const classes = r.labelled ? `${r.classes.length} classes (${r.classes.join(', ')})` : 'no labels';
  return { json: { ...r }, text: `Wrote ${r.path}: ${r.images} images, ${classes}, ${(r.bytes / 1e6).toFixed(1)} MB. Train with StyleGAN2-ADA: python train.py --outdir=training-runs --data=${r.path}${r.labelled ? ' --cond=1' : ''}` };
};

function describeResult(r: ExportResult, label: string): string {
  const size = `${(r.bytes / 1e6).toFixed(1)} MB`;
  switch (r.format) {
    case 'tfjs':
      return `Wrote ${r.path}/ (${size}): "${label}" as a TF.js GraphModel. In Node: cd ${shellArg(r.path)} && npm install && node load-node.mjs 0 1 2; in a page: tf.loadGraphModel('…/model.json').`;
    case 'onnx':
      return `Wrote ${r.path} (${size}): "${label}" as ONNX; checked against the studio on ${r.onnxCheck!.samples} images, largest difference ${r.onnxCheck!.maxAbsDiff.toExponential(2)} (allowed ${r.onnxCheck!.tolerance}).`;
    case 'html':
      return `Wrote ${r.path}/ (${size}): open ${r.path}/index.html in any browser to sample "${label}" offline.`;
    default:
      return `Wrote ${r.images} images of "${label}" to ${r.path} (${size}) with manifest.json.`;
  }
}

const exportGenerator: Exporter = async ({ project, format, out, force, values }) => {
  const { source, label } = generatorSource(project, { model: values.model as string | undefined, run: values.run as string | undefined });
  const backend = backendOption(values.backend as string | undefined);
  const psi = psiOption(values.psi as string | undefined);
  const client = new SamplerClient(project.path, backend !== undefined ? { backend } : {});
  try {
    const r =
      format === 'images'
        ? (await exportSeedImages(client, source, { out, seeds: (values.seeds as string | undefined) ?? '0-15', psi, classText: values.class as string | undefined, overwrite: force })).result
        : await client.request({ op: 'export', source, format: format as ModelExportFormat, out, overwrite: force, forceHint: 'pass --force to replace it' }).done;
    return { json: { ...r, generator: label, backend: client.backend }, text: describeResult(r, label) };
  } finally {
    await client.dispose();
  }
};

/** `<project>-exports/<project>-<format>` beside the project file (never inside a folder images came from), plain names. */
function defaultOut(projectPath: string, format: string): string {
  const project = Project.inspect(projectPath);
  let sources: string[];
  try {
    sources = new ImportStore(project.db).sourcePaths().map((p) => (existsSync(p) && statSync(p).isDirectory() ? p : dirname(p)));
  } finally {
    project.close();
  }
  const folder = exportFolderFor(projectPath, sources);
  mkdirSync(folder, { recursive: true });
  const base = join(folder, plainFileName(basename(projectPath).replace(/\.atelier$/i, ''), 'project'));
  return format === 'dataset' ? `${base}-dataset.zip` : format === 'onnx' ? `${base}-generator.onnx` : `${base}-${format}`;
}

export async function exportCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    format: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    run: { type: 'string' },
    labels: { type: 'string' },
    seeds: { type: 'string' },
    psi: { type: 'string' },
    class: { type: 'string' },
    backend: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) return io.out(USAGE), 0;
  if (positionals.length !== 1) throw new UserError('invalid-request', `expected one project file. ${USAGE.split('\n')[0]}`);
  const format = values.format as string | undefined;
  const all = ['dataset', ...GENERATOR_FORMATS];
  if (!format) throw new UserError('invalid-request', `--format is required: ${all.join(', ')}.`, '--format');
  if (!all.includes(format)) throw new UserError('invalid-request', `Unknown --format "${format}". Available: ${all.join(', ')}.`, '--format');
  const generator = format !== 'dataset';
  if (generator && values.model === undefined && values.run === undefined) {
    throw new UserError('invalid-request', `--format ${format} exports a generator: name it with --model NAME or --run RUN[:CHECKPOINT].`, '--model');
  }
  if (!generator && (values.model !== undefined || values.run !== undefined)) throw new UserError('invalid-request', '--format dataset exports the images you imported; leave out --model and --run.', '--model');
  const projectPath = resolve(positionals[0]!);
  // `--out model` for ONNX means model.onnx (the studio's dialogs suggest the extension the same way).
  const asked = typeof values.out === 'string' ? resolve(values.out) : defaultOut(projectPath, format);
  const out = format === 'onnx' && !asked.toLowerCase().endsWith('.onnx') ? `${asked}.onnx` : asked;
  const parent = dirname(out);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new UserError('not-found', `The folder ${parent} does not exist. Create it, or pick another --out.`, parent);
  const labels = values.labels === undefined ? 'auto' : values.labels;
  if (labels !== 'auto' && labels !== 'none') throw new UserError('invalid-request', `--labels must be auto or none, not "${labels}".`, '--labels');

  const project = Project.open(projectPath);
  try {
    const exporter = generator ? exportGenerator : exportDataset;
    const result = await exporter({ project, format, out, labels, force: values.force === true, values });
    io.out(values.json ? JSON.stringify({ ok: true, format, ...result.json }) : result.text);
    return 0;
  } finally {
    project.close();
  }
}
