/**
 * Which paths the renderer may name. The renderer is never trusted with the file system: a path
 * it sends must be one the user picked — through a native dialog (desktop), inside the folder
 * the browser-mode chooser serves, or from the recent list the service itself keeps.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../api/errors.js';
import { plainFileName } from '../api/vocabulary.js';
import { PROJECT_EXTENSION } from '../store/project-file.js';

/** Absolute, normalised, with symlinks in its existing part resolved. */
export function canonicalPath(p: string): string {
  const abs = resolve(p);
  // The file itself may not exist yet (create): resolve the deepest existing ancestor.
  let head = abs;
  const tail: string[] = [];
  while (!existsSync(head)) {
    const parent = dirname(head);
    if (parent === head) break;
    tail.unshift(basename(head));
    head = parent;
  }
  return join(realpathSync(head), ...tail);
}

export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Adds `.atelier` when the user typed a name without it. */
export function withProjectExtension(p: string): string {
  return extname(p).toLowerCase() === PROJECT_EXTENSION ? p : `${p}${PROJECT_EXTENSION}`;
}

/** What a picked path may be used for: a dialog to open files grants no right to overwrite them. */
export type PathUse = 'project' | 'read' | 'write';

const USE_WORDS: Record<PathUse, string> = { project: 'open or create a project', read: 'read from', write: 'save to' };

/** Decides whether a renderer-supplied path is one the user picked, for this use. */
export interface PathPolicy {
  /** Throws a 'forbidden' UserError unless `path` (canonical) may be used so. */
  check(path: string, use: PathUse): void;
  /** Remembers a path the user picked through the host's own UI (a native dialog, a drop), for one use. */
  grant(path: string, use: PathUse): void;
}

/** Desktop: only paths returned by a native dialog in this session (plus the recent list), each for what it was picked for. */
export class GrantedPaths implements PathPolicy {
  private readonly granted = new Map<string, Set<PathUse>>();
  grant(path: string, use: PathUse): void {
    const key = canonicalPath(path);
    const uses = this.granted.get(key) ?? new Set<PathUse>();
    uses.add(use);
    this.granted.set(key, uses);
  }
  check(path: string, use: PathUse): void {
    const uses = this.granted.get(path);
    if (uses === undefined) {
      throw new UserError('forbidden', `${path} was not picked in a dialog. Use the studio's Open, New, Import or Export buttons to choose it.`, path);
    }
    if (!uses.has(use)) {
      const picked = [...uses].map((u) => USE_WORDS[u]).join(' and ');
      throw new UserError('forbidden', `${path} was picked to ${picked}, not to ${USE_WORDS[use]}. Choose it again in the dialog for that.`, path);
    }
  }
}

/** How to make the browser mode offer more than `root`: the serve flag, through npm start too, or the environment. */
export function widenHint(root: string): string {
  return `To reach folders outside ${root}, restart with \`npm start -- --root /\` or \`atelier serve --root /\` (any folder instead of /), or set ATELIER_ROOT before starting.`;
}

/** Browser mode: anything under the chooser's root folder (written into, never replaced as a whole). */
export class RootedPaths implements PathPolicy {
  readonly root: string;
  constructor(root: string) {
    this.root = canonicalPath(root);
  }
  grant(): void {}
  check(path: string, use: PathUse): void {
    if (!isInside(this.root, path)) {
      throw new UserError('forbidden', `${path} is outside the folder this server offers (${this.root}). ${widenHint(this.root)}`, path);
    }
    if (use === 'write' && path === this.root) {
      throw new UserError('forbidden', `${path} is the folder this server offers: an export goes inside it, under a new name.`, path);
    }
  }
}

/**
 * Where a project's exports go by default: `<name>-exports` beside the project file — unless that
 * lies inside a folder images were imported from (importing the folder again would take the
 * exports in as training data): then beside the outermost such folder.
 */
export function exportFolderFor(projectPath: string, importSources: readonly string[]): string {
  const name = `${plainFileName(basename(projectPath, extname(projectPath)), 'project')}-exports`;
  let dir = dirname(projectPath);
  const folders = importSources.map((s) => resolve(s));
  for (;;) {
    const inside = folders.filter((f) => isInside(f, join(dir, name)));
    if (inside.length === 0) return join(dir, name);
    const outermost = inside.reduce((a, b) => (a.length <= b.length ? a : b));
    const parent = dirname(outermost);
    if (parent === dir || parent === outermost) return join(dir, name);
    dir = parent;
  }
}
