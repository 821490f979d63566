/**
 * Models: generators ready to sample or export, each with its own weights (so pruning checkpoints
 * or deleting a run never loses one) and its GeneratorMeta. Names are unique (case-insensitive
 * checks give a clear message before SQLite's UNIQUE does).
 */
import type Database from 'better-sqlite3';
import { UserError } from '../api/errors.js';

export interface ModelRow {
  id: number;
  name: string;
  checkpointId: number | null;
  runId: number | null;
  source: 'checkpoint' | 'import';
  /** GeneratorMeta as JSON text (parsed by the caller: core/generator/meta.ts). */
  metadata: string;
  sizeBytes: number;
  createdAt: string;
  updatedAt: string | null;
}

interface Row {
  id: number;
  name: string;
  checkpoint_id: number | null;
  run_id: number | null;
  source: 'checkpoint' | 'import';
  metadata: string;
  size: number;
  created_at: string;
  updated_at: string | null;
}

const toModel = (r: Row): ModelRow => ({
  id: r.id,
  name: r.name,
  checkpointId: r.checkpoint_id,
  runId: r.run_id,
  source: r.source,
  metadata: r.metadata,
  sizeBytes: r.size,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const COLUMNS = 'id, name, checkpoint_id, run_id, source, metadata, length(weights) AS size, created_at, updated_at';
const now = (): string => new Date().toISOString();

/** A model name as typed: trimmed, 1–200 characters. */
export function checkModelName(name: string): string {
  const n = name.trim();
  if (n.length === 0) throw new UserError('invalid-request', 'The model name is empty. Give it a name, e.g. "Faces, 40 kimg".', 'name');
  if (n.length > 200) throw new UserError('invalid-request', 'The model name is longer than 200 characters.', 'name');
  return n;
}

export class ModelStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      list: db.prepare<[], Row>(`SELECT ${COLUMNS} FROM models ORDER BY id DESC`),
      get: db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM models WHERE id = ?`),
      byName: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM models WHERE lower(name) = lower(?)`),
      weights: db.prepare<[number], { weights: Buffer }>('SELECT weights FROM models WHERE id = ?'),
      insert: db.prepare<[string, number | null, number | null, string, Buffer, string, string]>(
        'INSERT INTO models (name, checkpoint_id, run_id, source, weights, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      rename: db.prepare<[string, string, number]>('UPDATE models SET name = ?, updated_at = ? WHERE id = ?'),
      delete: db.prepare<[number]>('DELETE FROM models WHERE id = ?'),
    };
  }

  list(): ModelRow[] {
    return this.s.list.all().map(toModel);
  }

  get(id: number): ModelRow | undefined {
    const r = this.s.get.get(id);
    return r ? toModel(r) : undefined;
  }

  require(id: number): ModelRow {
    const m = this.get(id);
    if (!m) throw new UserError('not-found', `There is no model ${id} in this project (deleted?). Pick one from the Models view.`);
    return m;
  }

  /** By name (case-insensitive) or, for a number, by id. */
  find(nameOrId: string): ModelRow | undefined {
    const byName = this.s.byName.get(nameOrId.trim());
    if (byName) return toModel(byName);
    return /^\d+$/.test(nameOrId.trim()) ? this.get(Number(nameOrId)) : undefined;
  }

  weights(id: number): Buffer {
    const r = this.s.weights.get(id);
    if (!r) throw new UserError('not-found', `There is no model ${id} in this project.`);
    return r.weights;
  }

  private assertFree(name: string, except?: number): void {
    const clash = this.s.byName.get(name);
    if (clash && clash.id !== except) {
      throw new UserError('exists', `A model named "${clash.name}" already exists. Pick another name, or rename that one first.`, 'name');
    }
  }

  insert(m: { name: string; checkpointId: number | null; runId: number | null; source: 'checkpoint' | 'import'; weights: Buffer; metadata: string }): ModelRow {
    const name = checkModelName(m.name);
    return this.db.transaction(() => {
      this.assertFree(name);
      const { lastInsertRowid } = this.s.insert.run(name, m.checkpointId, m.runId, m.source, m.weights, m.metadata, now());
      return this.get(Number(lastInsertRowid))!;
    })();
  }

  rename(id: number, rawName: string): ModelRow {
    const name = checkModelName(rawName);
    return this.db.transaction(() => {
      this.require(id);
      this.assertFree(name, id);
      this.s.rename.run(name, now(), id);
      return this.get(id)!;
    })();
  }

  /** Deletes the model only: gallery items it made stay (with their provenance), runs and checkpoints stay. */
  delete(id: number): void {
    this.require(id);
    this.s.delete.run(id);
  }

  /** A name not taken yet: `base`, else `base (2)`, `base (3)`, … */
  freeName(base: string): string {
    const b = checkModelName(base);
    if (!this.s.byName.get(b)) return b;
    for (let i = 2; ; i++) {
      const candidate = `${b} (${i})`;
      if (!this.s.byName.get(candidate)) return candidate;
    }
  }
}
