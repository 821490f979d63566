/**
 * What the user dropped or picked — files, folders, zip archives — expanded into a flat, sorted
 * list of entries, each with the path the user knows it by and, on request, a label taken from
 * its first-level subfolder. Hidden files and system litter are left out silently.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LabelSource, SkippedFile } from '../api/contract.js';
import { skip, skipForIoError } from './skip.js';
import { listZip, type ZipEntry } from './zip.js';

export type EntryLocation = { kind: 'file'; path: string } | { kind: 'zip'; archive: string; entry: ZipEntry };

export interface SourceEntry {
  /** As shown to the user: an absolute path, or `archive.zip!/inner/path.png`. */
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

export function isHidden(name: string): boolean {
  return name.startsWith('.') || LITTER.has(name.toLowerCase());
}

export function isZipName(name: string): boolean {
  return /\.zip$/i.test(name);
}

/**
 * Expands `paths` (absolute). Entries come out grouped by source in the order given, each group
 * sorted by relative path, so "which copy is kept" never depends on the file system's order.
 */
export async function expandSources(paths: readonly string[], labels: LabelSource): Promise<ExpandedSources> {
  const out: ExpandedSources = { entries: [], skipped: [] };
  for (const path of paths) {
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      out.skipped.push(toSkipped(path, err));
      continue;
    }
    const group: SourceEntry[] = [];
    if (st.isDirectory()) {
      await walk(path, '', new Set([await realpath(path)]), labels, group, out.skipped);
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

async function walk(dir: string, rel: string, seen: Set<string>, labels: LabelSource, out: SourceEntry[], skipped: SkippedFile[]): Promise<void> {
  let names;
  try {
    names = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    skipped.push(toSkipped(dir, err));
    return;
  }
  // The sizes of the plain files, asked for all at once (one at a time, a folder of thousands
  // takes a quarter of a second); used in the same order as before.
  const sizes = await statFiles(dir, names.filter((d) => d.isFile() && !d.isSymbolicLink() && !isHidden(d.name) && !isZipName(d.name)).map((d) => d.name));
  for (const d of names) {
    if (isHidden(d.name)) continue;
    const full = join(dir, d.name);
    const childRel = rel ? `${rel}/${d.name}` : d.name;
    let isDir = d.isDirectory();
    let size = 0;
    if (d.isSymbolicLink() || (!isDir && !d.isFile())) {
      try {
        const st = await stat(full);
        isDir = st.isDirectory();
        if (!isDir && !st.isFile()) continue; // sockets, fifos, devices
        size = st.size;
      } catch (err) {
        skipped.push(toSkipped(full, err));
        continue;
      }
    }
    if (isDir) {
      let real: string;
      try {
        real = await realpath(full);
      } catch (err) {
        skipped.push(toSkipped(full, err));
        continue;
      }
      if (seen.has(real)) continue; // a symlink loop, or a folder linked twice
      seen.add(real);
      await walk(full, childRel, seen, labels, out, skipped);
      continue;
    }
    if (isZipName(d.name)) {
      skipped.push({ file: full, code: 'not-an-image', reason: 'A zip archive inside a folder is not opened. Import the archive on its own.' });
      continue;
    }
    if (size === 0) {
      try {
        const known = sizes.get(d.name);
        if (known instanceof Error) throw known;
        size = known ?? (await stat(full)).size;
      } catch (err) {
        skipped.push(toSkipped(full, err));
        continue;
      }
    }
    out.push({ file: full, rel: childRel, label: labelFor(childRel, labels), size, loc: { kind: 'file', path: full } });
  }
}

/** Size (or the error) of each named file in `dir`, a few dozen requests in flight at a time. */
async function statFiles(dir: string, names: string[]): Promise<Map<string, number | Error>> {
  const out = new Map<string, number | Error>();
  for (let i = 0; i < names.length; i += STAT_BATCH) {
    const chunk = names.slice(i, i + STAT_BATCH);
    const results = await Promise.allSettled(chunk.map((n) => stat(join(dir, n))));
    results.forEach((r, k) => out.set(chunk[k]!, r.status === 'fulfilled' ? r.value.size : (r.reason as Error)));
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
  const visible = entries.filter((e) => !e.name.split('/').some(isHidden));
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

function toSkipped(file: string, err: unknown): SkippedFile {
  const e = skipForIoError(err);
  return { file, code: e.code, reason: e.message };
}
