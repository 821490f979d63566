/**
 * Writing an export safely: everything goes to a hidden temporary name beside the destination
 * and is renamed into place at the end, so a full disk, a crash or a refused check leaves no
 * half-written file or folder — and an existing destination is replaced only when the user said
 * so (and only once the new one is complete).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError, describeIoError } from '../api/errors.js';

/** Written into every exported folder: only such a folder (or an empty one) is ever replaced. */
export const EXPORT_MARKER = '.atelier-export';

export async function pathExists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export interface OutputOptions {
  /** Replace an existing file or folder at the destination. */
  overwrite?: boolean;
  /** 'file' or 'dir': what the destination will be. */
  kind: 'file' | 'dir';
  /** How the user says "replace" here, for the message (default: 'confirm replacing it'). */
  forceHint?: string;
}

/** Refuses (with what to do) when `out` exists and may not be replaced, or its folder is missing. */
export async function checkDestination(out: string, o: OutputOptions): Promise<void> {
  const parent = dirname(out);
  let parentIsDir = false;
  try {
    parentIsDir = (await stat(parent)).isDirectory();
  } catch {
    parentIsDir = false;
  }
  if (!parentIsDir) throw new UserError('not-found', `The folder ${parent} does not exist. Create it, or pick another destination.`, parent);
  if (!(await pathExists(out))) return;
  const isDir = (await stat(out)).isDirectory();
  if (!o.overwrite) {
    throw new UserError('exists', `${isDir ? 'A folder' : 'A file'} ${out} already exists. Pick another name, or ${o.forceHint ?? 'confirm replacing it'}.`, out);
  }
  // Replacing: only what an export would be, and a folder only when it is one of ours (or empty):
  // a folder of photos or projects picked by mistake must never be deleted.
  if (isDir !== (o.kind === 'dir')) {
    throw new UserError('exists', `${out} is ${isDir ? 'a folder' : 'a file'}, and this export is ${o.kind === 'dir' ? 'a folder' : 'a file'}: it is not replaced. Pick another name.`, out);
  }
  if (isDir) {
    const entries = await readdir(out);
    if (entries.length > 0 && !entries.includes(EXPORT_MARKER)) {
      throw new UserError('exists', `The folder ${out} was not made by a GAN Atelier export, so it is not replaced (everything in it is kept). Pick a new folder name.`, out);
    }
  }
}

/**
 * Runs `build(tmp)` to write the export at a temporary path beside `out` (a folder is created for
 * kind 'dir'), then moves it into place. On any failure the temporary path is removed and the
 * error names the destination; an existing destination is untouched until the new one is whole.
 */
export async function writeAtomically<T>(out: string, o: OutputOptions, build: (tmp: string) => Promise<T>): Promise<T> {
  await checkDestination(out, o);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(dirname(out), `.${basename(out)}.partial-${tag}`);
  const old = join(dirname(out), `.${basename(out)}.old-${tag}`);
  try {
    if (o.kind === 'dir') await mkdir(tmp);
    const result = await build(tmp);
    if (o.kind === 'dir') await writeFile(join(tmp, EXPORT_MARKER), 'Made by GAN Atelier: the studio may replace this folder with a new export of the same name.\n');
    const replacing = await pathExists(out);
    if (replacing) await rename(out, old);
    try {
      await rename(tmp, out);
    } catch (err) {
      if (replacing) await rename(old, out).catch(() => {});
      throw err;
    }
    if (replacing) await rm(old, { recursive: true, force: true });
    return result;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw err instanceof UserError ? err : describeIoError(err, out, 'write');
  }
}
