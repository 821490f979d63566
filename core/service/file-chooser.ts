/** Browser mode's server-side file chooser: lists one folder under the chooser's root. */
import { readdirSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import type { DirListing, FileEntry } from '../api/contract.js';
import { UserError, describeIoError } from '../api/errors.js';
import { PROJECT_EXTENSION } from '../store/project-file.js';
import { canonicalPath, isInside } from './paths.js';

const MAX_ENTRIES = 5000;

export function listDir(root: string, requested?: string): DirListing {
  const dir = canonicalPath(requested ?? root);
  if (!isInside(root, dir)) {
    throw new UserError('forbidden', `${dir} is outside the folder this server offers (${root}).`, dir);
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
    if (name.startsWith('.')) continue;
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
  return { dir, parent: dir === root ? null : dirname(dir), root, entries };
}
