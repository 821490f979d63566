/**
 * `atelier`: the studio's core from a terminal. Every command takes the project file first,
 * prints human-readable output by default and one JSON document with `--json`, and exits
 * non-zero with a one-line reason on failure.
 */
import { resolve } from 'node:path';
import { UserError } from '../api/errors.js';
import { diskFullError } from '../store/disk-full.js';
import type { CommandIO } from './args.js';
import { evalCommand } from './eval-command.js';
import { exportCommand } from './export-command.js';
import { importCommand } from './import-command.js';
import { mergeCommand } from './merge-command.js';
import { infoCommand, newCommand } from './project-commands.js';
import { runsCommand } from './runs-command.js';
import { sampleCommand } from './sample-command.js';
import { serveCommand } from './serve-command.js';
import { trainCommand } from './train-command.js';

const USAGE = `Usage: atelier <command> [options]

Commands:
  new <project> [--name NAME] [--json]     create a project file (.atelier)
  info <project> [--json]                  schema version, images, label names, runs, models
  runs <project> [--json]                  the runs: id, preset, status, kimg, quality, checkpoint
  import <project> <path…> [--resolution N] [--fit crop|pad|stretch] [--labels folders] [--json]
                                           images, folders, zips and DICOM into the dataset
  export <project> --format dataset [--out PATH] [--json]
                                           the dataset as a StyleGAN2-ADA zip
  export <project> (--model M | --run RUN) --format tfjs|onnx|html|images [--out PATH] [--force]
                                           the generator as files others can use
  sample <project> (--model M | --run RUN) --seeds 0-15 [--psi 0.7] [--class C] --out DIR
                                           PNGs named by seed, as the gallery makes them
  train <project> --preset baseline [--kimg K] [--batch B] [--backend NAME] [--seed S] [--json]
  train <project> --resume RUN [--checkpoint C] [--backend NAME] [--json]
                                           train a run in a worker; Ctrl+C pauses, --resume continues
  eval <project> --run RUN [--checkpoint C] [--metric kid|fid|pr] [--json]
                                           KID, FID, precision/recall of a checkpoint
  merge <project> --sources model:A,run:3[:C],file.onnx,export/ [--classes a,b] [--weights 1,1]
        [--root M] --kimg-root K --kimg-merge K [--resolution R] [--json]
  merge <project> --resume MERGE [--json]
                                           several generators become one with a class each
  serve [--port P] [--root DIR] [--project FILE] [--open]
                                           the studio in a browser on 127.0.0.1, with a token

Run \`atelier <command> --help\` for a command's options.`;

type Command = (argv: string[], io: CommandIO) => Promise<number> | number;

const commands: Record<string, Command> = {
  new: newCommand,
  info: infoCommand,
  runs: runsCommand,
  import: importCommand,
  export: exportCommand,
  serve: serveCommand,
  train: trainCommand,
  sample: sampleCommand,
  eval: evalCommand,
  merge: mergeCommand,
};

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    io.err(`atelier: unknown command "${name}". Run \`atelier --help\` for the list.`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (raw) {
    // SQLite's "database or disk is full" from a command's own writes: the one line, naming the project.
    const project = rest.find((a) => /\.atelier$/i.test(a)) ?? rest.find((a) => !a.startsWith('-'));
    const err = (raw as { code?: unknown })?.code === 'SQLITE_FULL' && project !== undefined ? diskFullError(resolve(project)) : raw;
    const json = rest.includes('--json');
    const message = err instanceof UserError || isParseError(err) ? (err as Error).message : `unexpected error: ${(err as Error)?.stack ?? String(err)}`;
    if (json) io.out(JSON.stringify({ ok: false, error: err instanceof UserError ? err.toApiError() : { code: isParseError(err) ? 'invalid-request' : 'internal', message } }));
    io.err(`atelier ${name}: ${message.split('\n')[0]}`);
    return err instanceof UserError || isParseError(err) ? 1 : 70;
  }
}

function isParseError(err: unknown): boolean {
  return typeof (err as { code?: unknown })?.code === 'string' && String((err as { code: string }).code).startsWith('ERR_PARSE_ARGS');
}
