/**
 * Gallery items: images the user kept from exploring, with the latents that made them (w always,
 * z when there was one), how they were made and a provenance snapshot. Favourite, rejected and
 * tags are the curation; the rest never changes once written.
 */
import type Database from 'better-sqlite3';
import type { GalleryItem, GalleryPage, ItemProvenance, SampleSpec } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { pngDataUrl } from './png-data-url.js';

export type GalleryFilter = 'all' | 'favourites' | 'rejected' | 'unrated';

/**
 * Whose items: one generator's (a model's, or a checkpoint's when no model holds them), or those
 * whose generator is gone (its model deleted, its checkpoint pruned or its run deleted).
 */
export type GalleryScope = { modelId: number } | { checkpointId: number } | { orphaned: true };

/** A kept item without its image (what an export's manifest says about it). */
export type ItemRecord = Omit<GalleryItem, 'png'>;

/** Items whose generator is gone: deleting a model or a checkpoint sets its column to NULL. */
const ORPHANED = 'model_id IS NULL AND checkpoint_id IS NULL';

export interface NewItem {
  modelId: number | null;
  checkpointId: number | null;
  runId: number | null;
  origin: GalleryItem['origin'];
  seed: number | null;
  psi: number | null;
  classIndex: number | null;
  className: string | null;
  /** The w synthesis used (after truncation). */
  w: Float32Array;
  z: Float32Array | null;
  png: Buffer;
  favourite: boolean;
  rejected: boolean;
  tags: string[];
  recipe: SampleSpec;
  provenance: ItemProvenance;
}

/** What latent arithmetic and interpolation need of a kept item. */
export interface ItemLatents {
  id: number;
  modelId: number | null;
  checkpointId: number | null;
  seed: number | null;
  psi: number | null;
  classIndex: number | null;
  w: Float32Array;
  z: Float32Array | null;
}

interface Row {
  id: number;
  model_id: number | null;
  checkpoint_id: number | null;
  run_id: number | null;
  origin: GalleryItem['origin'];
  seed: number | null;
  psi: number | null;
  class_index: number | null;
  png: Buffer;
  favourite: number;
  rejected: number;
  tags: string;
  provenance: string;
  created_at: string;
}

/** A float32 blob (SQLite hands back Buffers that need not be 4-byte aligned): copied out. */
export function floatsFromBlob(b: Buffer | null): Float32Array | null {
  if (b === null) return null;
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

const blobOf = (f: Float32Array): Buffer => Buffer.from(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength));

function recordOf(r: Row): ItemRecord {
  // The class's name is kept beside the provenance, so it shows after the generator is gone.
  const { className = null, ...provenance } = JSON.parse(r.provenance) as ItemProvenance & { className?: string | null };
  return {
    id: r.id,
    origin: r.origin,
    seed: r.seed,
    psi: r.psi,
    classIndex: r.class_index,
    className,
    favourite: r.favourite === 1,
    rejected: r.rejected === 1,
    tags: JSON.parse(r.tags) as string[],
    modelId: r.model_id,
    checkpointId: r.checkpoint_id,
    runId: r.run_id,
    provenance,
    createdAt: r.created_at,
  };
}

const toItem = (r: Row): GalleryItem => ({ ...recordOf(r), png: pngDataUrl(r.png) });

const notFound = (id: number): UserError => new UserError('not-found', `There is no kept item ${id} in this project (deleted?).`);

const ITEM_COLUMNS = 'id, model_id, checkpoint_id, run_id, origin, seed, psi, class_index, png, favourite, rejected, tags, provenance, created_at';
const now = (): string => new Date().toISOString();

function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter((t) => t.length > 0))].sort((a, b) => a.localeCompare(b));
}

export class GalleryStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      insert: db.prepare(
        `INSERT INTO gallery_items (model_id, checkpoint_id, run_id, origin, seed, latent, z, psi, class_index, png, favourite, rejected, tags, recipe, provenance, created_at)
         VALUES (@modelId, @checkpointId, @runId, @origin, @seed, @w, @z, @psi, @classIndex, @png, @favourite, @rejected, @tags, @recipe, @provenance, @createdAt)`,
      ),
      get: db.prepare<[number], Row>(`SELECT ${ITEM_COLUMNS} FROM gallery_items WHERE id = ?`),
      latents: db.prepare<[number], { id: number; model_id: number | null; checkpoint_id: number | null; seed: number | null; psi: number | null; class_index: number | null; latent: Buffer | null; z: Buffer | null }>(
        'SELECT id, model_id, checkpoint_id, seed, psi, class_index, latent, z FROM gallery_items WHERE id = ?',
      ),
      tags: db.prepare<[number], { tags: string }>('SELECT tags FROM gallery_items WHERE id = ?'),
      orphaned: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM gallery_items WHERE ${ORPHANED}`),
      setFlags: db.prepare<[number | null, number | null, string | null, string, number]>(
        'UPDATE gallery_items SET favourite = coalesce(?, favourite), rejected = coalesce(?, rejected), tags = coalesce(?, tags), updated_at = ? WHERE id = ?',
      ),
      delete: db.prepare<[number]>('DELETE FROM gallery_items WHERE id = ?'),
      allTags: db.prepare<[], { tag: string }>('SELECT DISTINCT j.value AS tag FROM gallery_items, json_each(gallery_items.tags) AS j ORDER BY tag'),
    };
  }

  insert(item: NewItem): GalleryItem {
    if (item.provenance === undefined) throw new Error('GalleryStore.insert: no provenance');
    const { lastInsertRowid } = this.s.insert.run({
      modelId: item.modelId,
      checkpointId: item.checkpointId,
      runId: item.runId,
      origin: item.origin,
      seed: item.seed,
      w: blobOf(item.w),
      z: item.z === null ? null : blobOf(item.z),
      psi: item.psi,
      classIndex: item.classIndex,
      png: item.png,
      favourite: item.favourite ? 1 : 0,
      rejected: item.rejected ? 1 : 0,
      tags: JSON.stringify(normaliseTags(item.tags)),
      recipe: JSON.stringify(item.recipe),
      provenance: JSON.stringify({ ...item.provenance, className: item.className }),
      createdAt: now(),
    });
    return this.get(Number(lastInsertRowid))!;
  }

  get(id: number): GalleryItem | undefined {
    const r = this.s.get.get(id);
    return r ? toItem(r) : undefined;
  }

  require(id: number): GalleryItem {
    const item = this.get(id);
    if (!item) throw notFound(id);
    return item;
  }

  /** A kept item's stored PNG and the rest of it, for exports (no data URL made). */
  pngAndRecord(id: number): { png: Buffer; record: ItemRecord } {
    const r = this.s.get.get(id);
    if (!r) throw notFound(id);
    return { png: r.png, record: recordOf(r) };
  }

  /** How many items' generators are gone (see GalleryScope). */
  orphanedCount(): number {
    return this.s.orphaned.get()!.n;
  }

  /** The latents of a kept item, for interpolation and arithmetic. */
  latents(id: number): ItemLatents {
    const r = this.s.latents.get(id);
    if (!r) throw new UserError('not-found', `There is no kept item ${id} in this project (deleted?). Pick the images again.`);
    const w = floatsFromBlob(r.latent);
    if (w === null) throw new UserError('corrupt', `Kept item ${id} has no latent stored, so it cannot be used for interpolation or arithmetic.`);
    return { id: r.id, modelId: r.model_id, checkpointId: r.checkpoint_id, seed: r.seed, psi: r.psi, classIndex: r.class_index, w, z: floatsFromBlob(r.z) };
  }

  /** One page, newest first; `scope`: whose items (absent: everyone's). */
  page(o: { offset: number; limit: number; filter?: GalleryFilter; tag?: string; scope?: GalleryScope }): GalleryPage {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (o.filter === 'favourites') where.push('favourite = 1');
    else if (o.filter === 'rejected') where.push('rejected = 1');
    else if (o.filter === 'unrated') where.push('favourite = 0 AND rejected = 0');
    if (o.tag !== undefined) {
      where.push('EXISTS (SELECT 1 FROM json_each(gallery_items.tags) WHERE value = ?)');
      args.push(o.tag);
    }
    if (o.scope !== undefined) {
      if ('orphaned' in o.scope) {
        where.push(ORPHANED);
      } else if ('modelId' in o.scope) {
        where.push('model_id = ?');
        args.push(o.scope.modelId);
      } else {
        where.push('checkpoint_id = ? AND model_id IS NULL');
        args.push(o.scope.checkpointId);
      }
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT count(*) AS n FROM gallery_items ${clause}`).get(...args) as { n: number }).n;
    const rows = this.db.prepare(`SELECT ${ITEM_COLUMNS} FROM gallery_items ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...args, o.limit, o.offset) as Row[];
    return { total, offset: o.offset, items: rows.map(toItem), tags: this.s.allTags.all().map((r) => r.tag) };
  }

  /** Favourite / reject / add and remove tags, in one transaction (all or none). Returns the ids updated. */
  update(ids: readonly number[], o: { favourite?: boolean; rejected?: boolean; addTags?: readonly string[]; removeTags?: readonly string[] }): number[] {
    return this.db.transaction(() => {
      const out: number[] = [];
      for (const id of ids) {
        const row = this.s.tags.get(id);
        if (!row) throw notFound(id);
        let tags: string[] | null = null;
        if (o.addTags !== undefined || o.removeTags !== undefined) {
          const remove = new Set(o.removeTags ?? []);
          tags = normaliseTags([...(JSON.parse(row.tags) as string[]).filter((t) => !remove.has(t)), ...(o.addTags ?? [])]);
        }
        // Favourite and rejected exclude each other: setting one clears the other.
        const favourite = o.favourite === undefined ? (o.rejected === true ? 0 : null) : o.favourite ? 1 : 0;
        const rejected = o.rejected === undefined ? (o.favourite === true ? 0 : null) : o.rejected ? 1 : 0;
        this.s.setFlags.run(favourite, rejected, tags === null ? null : JSON.stringify(tags), now(), id);
        out.push(id);
      }
      return out;
    })();
  }

  delete(ids: readonly number[]): number {
    return this.db.transaction(() => {
      let n = 0;
      for (const id of ids) n += this.s.delete.run(id).changes;
      return n;
    })();
  }
}
