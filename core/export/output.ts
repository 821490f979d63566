/**
 * Writing an export safely: everything goes to a hidden temporary name beside the destination
 * and is renamed into place at the end, so a full disk, a crash or a refused check leaves no
 * half-written file or folder — and an existing destination is replaced only when the user said
 * so (and only once the new one is complete).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError, describeIoError } from '../api/errors.js';

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
  if (!o.overwrite && (await pathExists(out))) {
    const what = (await stat(out)).isDirectory() ? 'A folder' : 'A file';
    throw new UserError('exists', `${what} ${out} already exists. Pick another name, or ${o.forceHint ?? 'confirm replacing it'}.`, out);
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
