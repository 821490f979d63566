/**
 * Merges (migration 007): a row per merge with what it was started with, its status, the state
 * machine's last checkpoint (JSON) and its named blobs, the newest preview strip per class and
 * the per-class evaluations. A checkpoint — state, blobs put and dropped — is one transaction, so
 * a worker killed at any point leaves the previous checkpoint or the new one, whole. The JSON
 * shapes belong to core/merge (this layer stores text).
 */
import type Database from 'better-sqlite3';
import { UserError } from '../api/errors.js';
import { processAlive } from './jobs.js';

export type MergeStatus = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'stopped';

export interface MergeRow {
  id: number;
  name: string;
  status: MergeStatus;
  /** What it was started with (JSON text: core/merge/merge-session.ts's StoredRequest). */
  request: string;
  /** The last checkpoint's state (JSON text: core/merge MergeState), null before the first. */
  state: string | null;
  progress: string | null;
  modelId: number | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface MergePreviewRow {
  id: number;
  stage: number;
  kind: string;
  kimg: number;
  classIndex: number;
  className: string;
  png: Buffer;
}

export interface MergeEvaluationRow {
  stage: number;
  step: number;
  fraction: number;
  /** JSON text (core/merge PerClassEvaluation). */
  evaluation: string;
}

interface Row {
  id: number;
  name: string;
  status: MergeStatus;
  request: string;
  state: string | null;
  progress: string | null;
  model_id: number | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

const toMerge = (r: Row): MergeRow => ({
  id: r.id,
  name: r.name,
  status: r.status,
  request: r.request,
  state: r.state,
  progress: r.progress,
  modelId: r.model_id,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const now = (): string => new Date().toISOString();

export class MergeStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      insert: db.prepare<[string, string, string, string]>("INSERT INTO merges (name, status, request, created_at, updated_at) VALUES (?, 'running', ?, ?, ?)"),
      get: db.prepare<[number], Row>('SELECT * FROM merges WHERE id = ?'),
      list: db.prepare<[], Row>('SELECT * FROM merges ORDER BY id DESC'),
      state: db.prepare<[string, string, number]>('UPDATE merges SET state = ?, updated_at = ? WHERE id = ?'),
      status: db.prepare<[MergeStatus, string | null, string, number]>('UPDATE merges SET status = ?, error = ?, updated_at = ? WHERE id = ?'),
      progress: db.prepare<[string, number]>('UPDATE merges SET progress = ? WHERE id = ?'),
      putBlob: db.prepare<[number, string, Buffer]>('INSERT OR REPLACE INTO merge_blobs (merge_id, name, data) VALUES (?, ?, ?)'),
      dropBlob: db.prepare<[number, string]>('DELETE FROM merge_blobs WHERE merge_id = ? AND name = ?'),
      dropBlobs: db.prepare<[number]>('DELETE FROM merge_blobs WHERE merge_id = ?'),
      blobs: db.prepare<[number], { name: string; data: Buffer }>('SELECT name, data FROM merge_blobs WHERE merge_id = ?'),
      addPreview: db.prepare<[number, number, string, number, number, string, Buffer, string]>(
        'INSERT INTO merge_previews (merge_id, stage, kind, kimg, class_index, class_name, png, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      prunePreviews: db.prepare<[number, number, number]>('DELETE FROM merge_previews WHERE merge_id = ? AND class_index = ? AND id < ?'),
      previews: db.prepare<[number], { id: number; stage: number; kind: string; kimg: number; class_index: number; class_name: string; png: Buffer }>(
        'SELECT id, stage, kind, kimg, class_index, class_name, png FROM merge_previews WHERE merge_id = ? ORDER BY class_index, id',
      ),
      addEvaluation: db.prepare<[number, number, number, number, string, string]>('INSERT INTO merge_evaluations (merge_id, stage, step, fraction, evaluation, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      evaluations: db.prepare<[number], MergeEvaluationRow>('SELECT stage, step, fraction, evaluation FROM merge_evaluations WHERE merge_id = ? ORDER BY id'),
      finish: db.prepare<[number, string, number]>("UPDATE merges SET status = 'done', error = NULL, model_id = ?, updated_at = ? WHERE id = ?"),
      delete: db.prepare<[number]>('DELETE FROM merges WHERE id = ?'),
      liveJobs: db.prepare<[], { id: number; pid: number | null; params: string; progress: string | null }>("SELECT id, pid, params, progress FROM jobs WHERE kind = 'merge' AND status IN ('queued', 'running')"),
    };
  }

  /** A new merge, running, with what it was started with; its id. */
  create(name: string, request: string): number {
    const t = now();
    return Number(this.s.insert.run(name, request, t, t).lastInsertRowid);
  }

  get(id: number): MergeRow | undefined {
    const r = this.s.get.get(id);
    return r ? toMerge(r) : undefined;
  }

  require(id: number): MergeRow {
    const m = this.get(id);
    if (!m) throw new UserError('not-found', `There is no merge ${id} in this project (deleted?). Pick one from the Merge view, or \`atelier info\` lists them.`);
    return m;
  }

  list(): MergeRow[] {
    return this.s.list.all().map(toMerge);
  }

  /** Stores a checkpoint atomically: the state, blobs put (replacing those of the same name), blobs dropped. */
  checkpoint(id: number, state: string, put: ReadonlyMap<string, Uint8Array>, drop: readonly string[]): void {
    this.db.transaction(() => {
      for (const name of drop) this.s.dropBlob.run(id, name);
      for (const [name, data] of put) this.s.putBlob.run(id, name, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      this.s.state.run(state, now(), id);
    })();
  }

  /** The last checkpoint: its state (JSON text) and every blob stored with it; null before the first. */
  lastCheckpoint(id: number): { state: string; blobs: Map<string, Uint8Array> } | null {
    const row = this.require(id);
    if (row.state === null) return null;
    return { state: row.state, blobs: new Map(this.s.blobs.all(id).map((b) => [b.name, b.data])) };
  }

  setStatus(id: number, status: MergeStatus, error: string | null = null): void {
    this.s.status.run(status, error, now(), id);
  }

  setProgress(id: number, progress: unknown): void {
    this.s.progress.run(JSON.stringify(progress), id);
  }

  /** Stores a preview strip; only the newest of each class is kept. */
  addPreview(id: number, p: Omit<MergePreviewRow, 'id'>): number {
    return this.db.transaction(() => {
      const previewId = Number(this.s.addPreview.run(id, p.stage, p.kind, p.kimg, p.classIndex, p.className, p.png, now()).lastInsertRowid);
      this.s.prunePreviews.run(id, p.classIndex, previewId);
      return previewId;
    })();
  }

  /** The newest preview strip of each class. */
  previews(id: number): MergePreviewRow[] {
    return this.s.previews.all(id).map((r) => ({ id: r.id, stage: r.stage, kind: r.kind, kimg: r.kimg, classIndex: r.class_index, className: r.class_name, png: r.png }));
  }

  addEvaluation(id: number, e: MergeEvaluationRow): void {
    this.s.addEvaluation.run(id, e.stage, e.step, e.fraction, e.evaluation, now());
  }

  evaluations(id: number): MergeEvaluationRow[] {
    return this.s.evaluations.all(id);
  }

  /** The merge made model `modelId`: done, and its checkpoint blobs are no longer needed (call inside the model's transaction). */
  finish(id: number, modelId: number): void {
    this.s.finish.run(modelId, now(), id);
    this.s.dropBlobs.run(id);
  }

  delete(id: number): void {
    this.require(id);
    this.s.delete.run(id);
  }

  /** The live process (a `merge` job whose worker exists) working on merge `id`, or null. */
  holder(id: number, alive: (pid: number) => boolean = processAlive): { jobId: number; pid: number } | null {
    for (const j of this.s.liveJobs.all()) {
      // A resumed merge names it in its params; a new one in its progress, once its row exists.
      let mergeId: unknown;
      try {
        mergeId = (JSON.parse(j.params) as { mergeId?: unknown }).mergeId ?? (j.progress === null ? undefined : (JSON.parse(j.progress) as { mergeId?: unknown }).mergeId);
      } catch {
        continue;
      }
      if (mergeId === id && j.pid !== null && alive(j.pid)) return { jobId: j.id, pid: j.pid };
    }
    return null;
  }
}
