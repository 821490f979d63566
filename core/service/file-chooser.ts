/** Browser mode's server-side file chooser: lists one folder under the chooser's root. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import type { ChooserPlace, DirListing, FileEntry } from '../api/contract.js';
import { UserError, describeIoError } from '../api/errors.js';
import { PROJECT_EXTENSION, isProjectCompanion } from '../store/project-file.js';
import { canonicalPath, isInside, widenHint } from './paths.js';

/** Where removable and extra disks are mounted. */
const VOLUME_PARENTS = ['/mnt/', '/media/', '/run/media/', '/Volumes/'];

/** Mount points of extra disks in /proc/mounts text (octal escapes such as \040 undone). */
export function volumesFromMounts(mounts: string): string[] {
  const out: string[] = [];
  for (const line of mounts.split('\n')) {
    const raw = line.split(' ')[1];
    if (!raw) continue;
    const point = raw.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (VOLUME_PARENTS.some((p) => point.startsWith(p)) && !out.includes(point)) out.push(point);
  }
  return out;
}

/** This machine's extra disks: mounted under /mnt, /media, /run/media (Linux), or in /Volumes (macOS). */
function mountedVolumes(): string[] {
  try {
    if (existsSync('/proc/mounts')) return volumesFromMounts(readFileSync('/proc/mounts', 'utf8'));
    if (existsSync('/Volumes')) return readdirSync('/Volumes').map((n) => join('/Volumes', n));
  } catch {
    // No mount table to read: no volumes offered.
  }
  return [];
}

/**
 * The places beside the folder list: the served folder, home, mounted volumes, recent projects'
 * folders — each once, those outside `root` marked (shown so the user sees why, not openable).
 */
export function chooserPlaces(root: string, o: { home?: string; volumes?: string[]; recentDirs?: string[] } = {}): ChooserPlace[] {
  const places: ChooserPlace[] = [{ name: 'Served folder', path: root, kind: 'root', inside: true }];
  const add = (name: string, path: string, kind: ChooserPlace['kind']): void => {
    if (places.some((p) => p.path === path) || !existsSync(path)) return;
    places.push({ name, path, kind, inside: isInside(root, path) });
  };
  add('Home', o.home ?? homedir(), 'home');
  for (const v of o.volumes ?? mountedVolumes()) add(basename(v) || v, v, 'volume');
  for (const d of o.recentDirs ?? []) add(basename(d) || d, d, 'recent');
  return places;
}

const MAX_ENTRIES = 5000;

export function listDir(root: string, requested?: string, places: ChooserPlace[] = chooserPlaces(root)): DirListing {
  const dir = canonicalPath(requested ?? root);
  if (!isInside(root, dir)) {
    throw new UserError('forbidden', `${dir} is outside the folder this server offers (${root}). ${widenHint(root)}`, dir);
  }
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UserError('invalid-request', `${dir} is a file, not a folder.`, dir);
    names = readdirSync(dir);
  } catch (err) {
    throw err instanceof UserError ? err : describeIoError(err, dir, 'list');
  }
  const entries: FileEntry[] = [];
  for (const name of names) {
    // Hidden files, and a project's own -wal/-shm/reserve files (never anything to pick).
    if (name.startsWith('.') || isProjectCompanion(name)) continue;
    const path = join(dir, name);
    try {
      const st = statSync(path);
      const kind: FileEntry['kind'] = st.isDirectory() ? 'dir' : extname(name).toLowerCase() === PROJECT_EXTENSION ? 'project' : 'file';
      entries.push({ name, path, kind, sizeBytes: st.isDirectory() ? 0 : st.size });
    } catch {
      // A dangling link or an entry we may not stat: leave it out of the listing.
    }
    if (entries.length >= MAX_ENTRIES) break;
  }
  entries.sort((a, b) => Number(b.kind === 'dir') - Number(a.kind === 'dir') || a.name.localeCompare(b.name));
  return { dir, parent: dir === root ? null : dirname(dir), root, entries, places, widen: widenHint(root) };
}
