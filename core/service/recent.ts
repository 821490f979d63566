/** The recent-projects list, newest first, kept in `<app home>/recent.json`. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RecentProject } from '../api/contract.js';
import { readJsonFile, writeJsonFile } from './json-file.js';

const MAX_RECENT = 20;

interface StoredRecent {
  path: string;
  name: string;
  lastOpened: string;
}

export class RecentList {
  private readonly file: string;

  private readonly blocked: (path: string) => string | null;

  /** `blocked`: why a path cannot be opened here (browser mode: outside the served folder), or null. */
  constructor(appHome: string, blocked: (path: string) => string | null = () => null) {
    this.file = join(appHome, 'recent.json');
    this.blocked = blocked;
  }

  private load(): StoredRecent[] {
    const raw = readJsonFile<unknown>(this.file, []);
    if (!Array.isArray(raw)) return [];
    return raw.filter(
      (r): r is StoredRecent =>
        typeof r === 'object' && r !== null && typeof r.path === 'string' && typeof r.name === 'string' && typeof r.lastOpened === 'string',
    );
  }

  list(): RecentProject[] {
    return this.load().map((r) => ({ ...r, exists: existsSync(r.path), blocked: this.blocked(r.path) }));
  }

  has(path: string): boolean {
    return this.load().some((r) => r.path === path);
  }

  touch(path: string, name: string): RecentProject[] {
    const rest = this.load().filter((r) => r.path !== path);
    writeJsonFile(this.file, [{ path, name, lastOpened: new Date().toISOString() }, ...rest].slice(0, MAX_RECENT));
    return this.list();
  }

  forget(path: string): RecentProject[] {
    writeJsonFile(this.file, this.load().filter((r) => r.path !== path));
    return this.list();
  }
}
