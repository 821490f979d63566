/**
 * What the user dropped or picked — files, folders, zip archives — expanded into a flat, sorted
 * list of entries, each with the path the user knows it by and, on request, a label taken from
 * its first-level subfolder. Hidden files and system litter are left out silently.
 *
 * Names are read as bytes: one that is not UTF-8 is opened by its bytes and shown with `\xHH`
 * escapes (core/data/file-names.ts). With a `confine` folder (the browser mode's root), a symbolic
 * link is followed only when it resolves inside that folder, like the paths the user typed.
 */
import { PROJECT_EXTENSION, isProjectCompanion } from '../store/project-file.js';
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { LabelSource, SkippedFile } from '../api/contract.js';
import { childPath, displayPath, escapeBytes, isInsideBytes, pathBytes, type FsPath } from './file-names.js';
import { skip, skipForIoError, SkipError } from './skip.js';
import { listZip, type ZipEntry } from './zip.js';

/** Where the bytes are: a file (its path as a string, or as bytes when the name is not UTF-8), or a zip entry. */
export type EntryLocation = { kind: 'file'; path: FsPath } | { kind: 'zip'; archive: string; entry: ZipEntry };

export interface SourceEntry {
  /** As shown to the user: an absolute path, or `archive.zip!/inner/path.png` (stray bytes as `\xHH`). */
  file: string;
  /** Path relative to the picked folder or archive, '/'-separated. */
  rel: string;
  /** First-level subfolder name when labels come from folders; else null. */
  label: string | null;
  /** Bytes on disk (uncompressed size for zip entries). */
  size: number;
  loc: EntryLocation;
}

export interface ExpandedSources {
  entries: SourceEntry[];
  /** Folders or archives that could not be read at all. */
  skipped: SkippedFile[];
}

/** Names that are never images and never worth a line in the report. */
const LITTER = new Set(['thumbs.db', 'desktop.ini', '__macosx', 'icon\r']);

/** Hidden, litter, or a project file and its companions (a project kept inside its image folder is not data). */
export function isHidden(name: string): boolean {
  return name.startsWith('.') || LITTER.has(name.toLowerCase()) || isProjectCompanion(name) || name.toLowerCase().endsWith(PROJECT_EXTENSION);
}

export function isZipName(name: string): boolean {
  return /\.zip$/i.test(name);
}

/**
 * Expands `paths` (absolute). Entries come out grouped by source in the order given, each group
 * sorted by relative path, so "which copy is kept" never depends on the file system's order.
 * `confine`: a folder nothing may be read outside of, links included (the browser mode's root).
 */
export async function expandSources(paths: readonly string[], labels: LabelSource, confine: string | null = null): Promise<ExpandedSources> {
  const out: ExpandedSources = { entries: [], skipped: [] };
  for (const path of paths) {
    const walker = new Walker(labels, confine, out.skipped); // each source walked on its own, as given
    const st = await walker.follow(path);
    if (st === null) continue;
    const group: SourceEntry[] = [];
    if (st.isDirectory()) {
      await walker.walk(path, '', group);
    } else if (isZipName(path)) {
      await expandZip(path, labels, group, out.skipped);
    } else {
      group.push({ file: path, rel: basename(path), label: null, size: st.size, loc: { kind: 'file', path } });
    }
    group.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    out.entries.push(...group);
  }
  return out;
}

class Walker {
  /** Real paths of the folders walked (as latin1 keys: bytes, losslessly): a loop or a folder linked twice is walked once. */
  private readonly seen = new Set<string>();

  constructor(
    private readonly labels: LabelSource,
    private readonly confine: string | null,
    private readonly skipped: SkippedFile[],
  ) {}

  private skip(file: FsPath, e: SkipError): null {
    this.skipped.push({ file: displayPath(file), code: e.code, reason: e.message });
    return null;
  }

  /**
   * What `path` is, following links; null (and a line in the report) when it cannot be followed:
   * gone, a dangling or looping link, or a link out of the confining folder.
   */
  async follow(path: FsPath, link?: boolean): Promise<Stats | null> {
    let st: Stats;
    try {
      st = await stat(path);
    } catch (err) {
      return this.skip(path, await describeStatError(path, err));
    }
    const isLink = link ?? (await lstat(path).then((l) => l.isSymbolicLink(), () => false));
    if ((isLink || st.isDirectory()) && this.confine !== null) {
      let real: Buffer;
      try {
        real = await realpath(path, { encoding: 'buffer' });
      } catch (err) {
        return this.skip(path, skipForIoError(err));
      }
      if (!isInsideBytes(this.confine, real)) {
        return this.skip(
          path,
          new SkipError('unreadable', `A link to ${escapeBytes(real)}, outside the folder this server offers (${this.confine}); it was not read. Copy the file into that folder to import it.`),
        );
      }
    }
    return st;
  }

  async walk(dir: FsPath, rel: string, out: SourceEntry[]): Promise<void> {
    let real: Buffer;
    try {
      real = await realpath(dir, { encoding: 'buffer' });
    } catch (err) {
      this.skip(dir, skipForIoError(err));
      return;
    }
    const key = real.toString('latin1');
    if (this.seen.has(key)) return; // a symlink loop, or a folder linked twice
    this.seen.add(key);
    let names;
    try {
      names = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      this.skip(dir, skipForIoError(err));
      return;
    }
    // The sizes of the plain files, asked for all at once (one at a time, a folder of thousands
    // takes a quarter of a second); used in the same order as before.
    const plain = names.filter((d) => d.isFile() && !isHidden(escapeBytes(d.name)) && !isZipName(escapeBytes(d.name))).map((d) => childPath(dir, d.name));
    const sizes = await statFiles(plain);
    for (const d of names) {
      const name = escapeBytes(d.name);
      if (isHidden(name)) continue;
      const full = childPath(dir, d.name);
      const childRel = rel ? `${rel}/${name}` : name;
      let isDir = d.isDirectory();
      let size = 0;
      if (d.isSymbolicLink() || (!isDir && !d.isFile())) {
        const st = await this.follow(full, d.isSymbolicLink());
        if (st === null) continue;
        isDir = st.isDirectory();
        if (!isDir && !st.isFile()) continue; // sockets, fifos, devices
        size = st.size;
      }
      if (isDir) {
        await this.walk(full, childRel, out);
        continue;
      }
      if (isZipName(name)) {
        this.skip(full, new SkipError('not-an-image', 'A zip archive inside a folder is not opened. Import the archive on its own.'));
        continue;
      }
      if (size === 0) {
        try {
          const known = sizes.get(pathKey(full));
          if (known instanceof Error) throw known;
          size = known ?? (await stat(full)).size;
        } catch (err) {
          this.skip(full, skipForIoError(err));
          continue;
        }
      }
      out.push({ file: displayPath(full), rel: childRel, label: labelFor(childRel, this.labels), size, loc: { kind: 'file', path: full } });
    }
  }
}

/** Why stat failed, in words: a dangling or looping symbolic link is not "moved or deleted". */
async function describeStatError(path: FsPath, err: unknown): Promise<SkipError> {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'ELOOP') return skip.unreadable('a loop of symbolic links');
  if (code === 'ENOENT') {
    const target = await readlink(path, { encoding: 'buffer' }).catch(() => null);
    if (target !== null) return new SkipError('unreadable', `A symbolic link to ${escapeBytes(target)}, which does not exist. Fix or remove the link.`);
  }
  return skipForIoError(err);
}

const pathKey = (p: FsPath): string => pathBytes(p).toString('latin1');

/** Size (or the error) of each file, by `pathKey`, a few dozen requests in flight at a time. */
async function statFiles(paths: FsPath[]): Promise<Map<string, number | Error>> {
  const out = new Map<string, number | Error>();
  for (let i = 0; i < paths.length; i += STAT_BATCH) {
    const chunk = paths.slice(i, i + STAT_BATCH);
    const results = await Promise.allSettled(chunk.map((p) => stat(p)));
    results.forEach((r, k) => out.set(pathKey(chunk[k]!), r.status === 'fulfilled' ? r.value.size : (r.reason as Error)));
  }
  return out;
}

const STAT_BATCH = 64;

async function expandZip(archive: string, labels: LabelSource, out: SourceEntry[], skipped: SkippedFile[]): Promise<void> {
  let entries: ZipEntry[];
  try {
    entries = await listZip(archive);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const e = code ? skipForIoError(err) : skip.corrupt((err as Error).message);
    skipped.push({ file: archive, code: e.code, reason: e.message });
    return;
  }
  // A name that climbs out of the archive (`../x`, `/etc/x`) is never a picture the user meant:
  // counted as skipped, so the totals add up (hidden names, below, are left out silently).
  const climbing = (e: ZipEntry): boolean => e.name.startsWith('/') || e.name.split(/[\\/]/).includes('..');
  for (const e of entries.filter(climbing)) {
    skipped.push({ file: `${archive}!/${e.name}`, code: 'unsupported', reason: 'The zip entry\'s path leads out of the archive (".." or a leading "/"), so it is not read. Re-zip the files with plain relative paths.' });
  }
  const visible = entries.filter((e) => !climbing(e) && !e.name.split('/').some(isHidden));
  // Zips made by "compress this folder" wrap everything in one folder: labels start below it.
  const firsts = new Set(visible.map((e) => (e.name.includes('/') ? e.name.slice(0, e.name.indexOf('/')) : '')));
  const strip = firsts.size === 1 && !firsts.has('') ? [...firsts][0]!.length + 1 : 0;
  for (const entry of visible) {
    const rel = entry.name.slice(strip);
    out.push({ file: `${archive}!/${entry.name}`, rel, label: labelFor(rel, labels), size: entry.size, loc: { kind: 'zip', archive, entry } });
  }
}

function labelFor(rel: string, labels: LabelSource): string | null {
  if (labels !== 'folders') return null;
  const slash = rel.indexOf('/');
  return slash > 0 ? rel.slice(0, slash).normalize('NFC') : null;
}


