/**
 * Which paths the renderer may name. The renderer is never trusted with the file system: a path
 * it sends must be one the user picked — through a native dialog (desktop), inside the folder
 * the browser-mode chooser serves, or from the recent list the service itself keeps.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../api/errors.js';
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

/** Decides whether a renderer-supplied path is one the user picked. */
export interface PathPolicy {
  /** Throws a 'forbidden' UserError unless `path` (canonical) may be used. */
  check(path: string): void;
  /** Remembers a path the user picked through the host's own UI (a native dialog). */
  grant(path: string): void;
}

/** Desktop: only paths returned by a native dialog in this session (plus the recent list). */
export class GrantedPaths implements PathPolicy {
  private readonly granted = new Set<string>();
  grant(path: string): void {
    this.granted.add(canonicalPath(path));
  }
  check(path: string): void {
    if (!this.granted.has(path)) {
      throw new UserError('forbidden', `${path} was not picked in a dialog. Use Open or New to choose the file.`, path);
    }
  }
}

/** Browser mode: anything under the chooser's root folder. */
export class RootedPaths implements PathPolicy {
  readonly root: string;
  constructor(root: string) {
    this.root = canonicalPath(root);
  }
  grant(): void {}
  check(path: string): void {
    if (!isInside(this.root, path)) {
      throw new UserError('forbidden', `${path} is outside the folder this server offers (${this.root}). Restart \`atelier serve --root <folder>\` to work elsewhere.`, path);
    }
  }
}
