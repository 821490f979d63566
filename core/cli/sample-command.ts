/**
 * `atelier sample <project> (--run RUN | --model M) --seeds 0-15 [--psi 0.7] [--class C] --out DIR`:
 * PNGs named by seed (seed-000042.png) and a manifest of where each came from, made in the
 * sampling worker exactly as the studio's gallery makes them (same seed, ψ and class → same
 * pixels on the same backend).
 */
import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BACKEND_CHOICES, type ExportResult, type GallerySource } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { classFromText } from '../generator/meta.js';
import { parseSeeds } from '../generator/latents.js';
import { SamplerClient } from '../gallery/sampler-client.js';
import { Project } from '../store/project.js';
import { parseCommand, type CommandIO } from './args.js';
import { generatorSource } from './generator-option.js';
import { nextForSamples } from './next-step.js';

const USAGE = `Usage: atelier sample <project.atelier> (--model M | --run RUN[:CHECKPOINT]) --seeds 0-15 --out DIR [options]

Makes images from seeds, as the studio's gallery does: the same seed, ψ and class give the same
pixels. Writes DIR/seed-000000.png, … and DIR/manifest.json (where each image came from).

Options:
  --model M         a model, by name or id
  --run RUN[:CP]    a run's checkpoint (default: its best, else its newest)
  --seeds LIST      seeds, e.g. 0-15 or 3,7,42 or 0-9,100-109 (whole numbers 0 to 4294967295)
  --psi P           truncation ψ (default 0.7, as the Gallery opens; 1 leaves w alone)
  --class C         class name or index (conditional generators; default: the first class, as
                    the Gallery opens)
  --out DIR         the folder to write (new, or empty)
  --force           replace DIR if it exists
  --backend NAME    wasm, cpu, … (default: ATELIER_BACKEND, else the best that loads)
  --json            one JSON document`;

/** The Gallery's ψ when it opens (renderer/src/lib/state/gallery.svelte.ts): the CLI makes the same images by default. */
export const GALLERY_PSI = 0.7;

export function psiOption(raw: string | undefined): number {
  if (raw === undefined) return GALLERY_PSI;
  const psi = Number(raw);
  if (!Number.isFinite(psi) || psi < -2 || psi > 2) throw new UserError('invalid-request', `--psi must be a number between -2 and 2 (1 leaves w alone; 0.7 is common), not "${raw}".`, '--psi');
  return psi;
}

export function backendOption(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === 'auto') return undefined;
  if (!(BACKEND_CHOICES as readonly string[]).includes(raw)) throw new UserError('invalid-request', `--backend must be one of ${BACKEND_CHOICES.join(', ')}, not "${raw}".`, '--backend');
  return raw;
}

/**
 * PNGs of `seeds` with a manifest, made in the sampling worker (`atelier sample`, and `atelier
 * export --format images`). `classText`: a class name or index; absent: the first class of a
 * conditional generator.
 */
export async function exportSeedImages(
  client: SamplerClient,
  source: GallerySource,
  o: { out: string; seeds: string; psi: number; classText: string | undefined; overwrite: boolean },
): Promise<{ result: ExportResult; classIndex: number | null; classNames: string[] }> {
  const { classNames } = await client.request({ op: 'open', source }).done;
  const classIndex = o.classText === undefined ? (classNames.length > 0 ? 0 : null) : classFromText(classNames, o.classText);
  const result = await client.request({
    op: 'export',
    source,
    format: 'images',
    out: o.out,
    overwrite: o.overwrite,
    forceHint: 'pass --force to replace it',
    images: { seeds: o.seeds, psi: o.psi, classIndex },
  }).done;
  return { result, classIndex, classNames };
}

function emptyDir(p: string): boolean {
  try {
    return statSync(p).isDirectory() && readdirSync(p).length === 0;
  } catch {
    return false;
  }
}

export async function sampleCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    model: { type: 'string' },
    run: { type: 'string' },
    seeds: { type: 'string' },
    psi: { type: 'string' },
    class: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    backend: { type: 'string' },
  });
  if (values.help) return io.out(USAGE), 0;
  if (positionals.length !== 1) throw new UserError('invalid-request', `expected one project file. ${USAGE.split('\n')[0]}`);
  if (values.seeds === undefined) throw new UserError('invalid-request', '--seeds is required, e.g. --seeds 0-15.', '--seeds');
  if (values.out === undefined) throw new UserError('invalid-request', '--out DIR is required: the folder the PNGs go to.', '--out');
  const seeds = parseSeeds(values.seeds as string, 100_000, '--seeds');
  const psi = psiOption(values.psi as string | undefined);
  const backend = backendOption(values.backend as string | undefined);
  const out = resolve(values.out as string);

  const project = Project.open(resolve(positionals[0]!));
  const { source, label } = (() => {
    try {
      return generatorSource(project, { model: values.model as string | undefined, run: values.run as string | undefined });
    } finally {
      project.close();
    }
  })();
  const client = new SamplerClient(project.path, backend !== undefined ? { backend } : {});
  try {
    const { result, classIndex, classNames } = await exportSeedImages(client, source, {
      out,
      seeds: values.seeds as string,
      psi,
      classText: values.class as string | undefined,
      overwrite: values.force === true || emptyDir(out),
    });
    const next = nextForSamples(positionals[0]!, { model: values.model as string | undefined, run: values.run as string | undefined });
    if (values.json) {
      io.out(JSON.stringify({ ok: true, path: result.path, images: result.images, files: result.files, generator: label, backend: client.backend, psi, classIndex, seeds: seeds.length, next }));
    } else {
      io.out(`Wrote ${result.images} images of "${label}" (ψ ${psi}${classIndex !== null ? `, class ${classNames[classIndex]}` : ''}) to ${result.path} on ${client.backend}, with manifest.json.`);
      io.out(`Next: ${next}  (a page that makes more images in any browser; --format tfjs or onnx for code)`);
    }
    return 0;
  } finally {
    await client.dispose();
  }
}
