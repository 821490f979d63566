/** Label ids by name, created on first use: shared by the import's batches and the dataset's edits. */
import type Database from 'better-sqlite3';

export class LabelIds {
  private readonly cache = new Map<string, number>();
  private readonly byName;
  private readonly insert;

  constructor(db: Database.Database) {
    this.byName = db.prepare<[string], { id: number }>('SELECT id FROM labels WHERE name = ?');
    this.insert = db.prepare<[string, string]>('INSERT INTO labels (name, created_at) VALUES (?, ?)');
  }

  /** The id of label `name`, inserting it when new. */
  id(name: string): number {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const row = this.byName.get(name);
    const id = row ? row.id : Number(this.insert.run(name, new Date().toISOString()).lastInsertRowid);
    this.cache.set(name, id);
    return id;
  }

  /** Another connection (or an edit here) may have pruned, renamed or merged labels. */
  clear(): void {
    this.cache.clear();
  }
}
