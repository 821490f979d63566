/**
 * A merge's checkpoints in a folder, for scripts, benchmarks and tests (the studio keeps them in
 * the project file). Crash-safe: blobs are written under new file names first, then state.json
 * is replaced in one rename (it names the blob files it needs), then old files are deleted. A
 * process killed at any point leaves either the old or the new checkpoint whole.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MergeCheckpointWrite, MergeResume, MergeState } from './merge.js';

interface Index {
  state: MergeState;
  /** Blob name → file name. */
  files: Record<string, string>;
  generation: number;
}

const INDEX = 'state.json';

export class CheckpointDir {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private index(): Index | null {
    const p = join(this.dir, INDEX);
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Index) : null;
  }

  /** Stores a checkpoint (pass as the merge's `checkpoint` callback). */
  write(c: MergeCheckpointWrite): void {
    const old = this.index();
    const generation = (old?.generation ?? 0) + 1;
    const files: Record<string, string> = { ...(old?.files ?? {}) };
    for (const k of c.drop) delete files[k];
    for (const [k, bytes] of c.put) {
      const file = `${k}.${generation}.bin`;
      writeFileSync(join(this.dir, file), bytes);
      files[k] = file;
    }
    const tmp = join(this.dir, `${INDEX}.tmp`);
    writeFileSync(tmp, JSON.stringify({ state: c.state, files, generation } satisfies Index));
    renameSync(tmp, join(this.dir, INDEX));
    // Files no longer named (replaced, dropped, or left by a crash before a rename).
    const keep = new Set([INDEX, ...Object.values(files)]);
    for (const f of readdirSync(this.dir)) if (!keep.has(f)) rmSync(join(this.dir, f), { force: true });
  }

  /** The last checkpoint stored, or null when there is none. */
  read(): MergeResume | null {
    const idx = this.index();
    if (idx === null) return null;
    const blobs = new Map<string, Uint8Array>();
    for (const [k, file] of Object.entries(idx.files)) blobs.set(k, readFileSync(join(this.dir, file)));
    return { state: idx.state, blobs };
  }
}
