/**
 * Training runs and what they produce: metric series, checkpoints (weights + state) and preview
 * grids. Workers write here (their own connection to the same WAL file); the service reads.
 * Every write that belongs together is one transaction, so a killed worker never leaves half a
 * checkpoint behind.
 */
import type Database from 'better-sqlite3';

export type RunStatus = 'queued' | 'running' | 'paused' | 'stopped' | 'done' | 'failed';

export interface RunInfo {
  id: number;
  name: string;
  preset: string;
  /** The full resolved config (JSON object). */
  config: unknown;
  status: RunStatus;
  kimgDone: number;
  kimgTotal: number | null;
  backend: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CheckpointInfo {
  id: number;
  runId: number;
  kimg: number;
  step: number;
  isBest: boolean;
  createdAt: string;
  sizeBytes: number;
  /** Starred gallery images made from this checkpoint: while there are any, pruning keeps it. */
  starred: number;
}

/** A starred gallery image that pins one of a run's checkpoints. */
export interface StarredImage {
  itemId: number;
  checkpointId: number;
  kimg: number;
  /** 'seed 42, ψ 0.7', 'walk frame', 'arithmetic'. */
  label: string;
}

export interface Checkpoint extends CheckpointInfo {
  weights: Buffer;
  /** Step, optimiser moments' layout, RNG and augmentation state… (JSON object). */
  state: unknown;
}

interface RunRow {
  id: number;
  name: string;
  preset: string;
  config: string;
  status: RunStatus;
  kimg_done: number;
  kimg_total: number | null;
  backend: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

const toRun = (r: RunRow): RunInfo => ({
  id: r.id,
  name: r.name,
  preset: r.preset,
  config: JSON.parse(r.config) as unknown,
  status: r.status,
  kimgDone: r.kimg_done,
  kimgTotal: r.kimg_total,
  backend: r.backend,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

interface CheckpointRow {
  id: number;
  run_id: number;
  kimg: number;
  step: number;
  is_best: number;
  created_at: string;
  size: number;
  starred: number;
}

const toCheckpoint = (r: CheckpointRow): CheckpointInfo => ({
  id: r.id,
  runId: r.run_id,
  kimg: r.kimg,
  step: r.step,
  isBest: r.is_best === 1,
  createdAt: r.created_at,
  sizeBytes: r.size,
  starred: r.starred,
});

/** A checkpoint's starred images: favourites sampled from it (a model's items keep the model's own weights). */
const STARRED = '(SELECT count(*) FROM gallery_items g WHERE g.checkpoint_id = checkpoints.id AND g.favourite = 1 AND g.model_id IS NULL)';

const now = (): string => new Date().toISOString();

export class RunStore {
  private readonly db: Database.Database;
  private readonly s;

  constructor(db: Database.Database) {
    this.db = db;
    this.s = {
      insertRun: db.prepare<[string, string, string, string, number | null, string, string]>(
        'INSERT INTO runs (name, preset, config, status, kimg_total, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      getRun: db.prepare<[number], RunRow>('SELECT * FROM runs WHERE id = ?'),
      listRuns: db.prepare<[], RunRow>('SELECT * FROM runs ORDER BY id DESC'),
      setStatus: db.prepare<[RunStatus, string | null, string, number]>('UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE id = ?'),
      setProgress: db.prepare<[number, string, number]>('UPDATE runs SET kimg_done = ?, updated_at = ? WHERE id = ?'),
      setBackend: db.prepare<[string, string, number]>('UPDATE runs SET backend = ?, updated_at = ? WHERE id = ?'),
      setTotal: db.prepare<[number, string, number]>('UPDATE runs SET kimg_total = ?, updated_at = ? WHERE id = ?'),
      setConfig: db.prepare<[string, string, number]>('UPDATE runs SET config = ?, updated_at = ? WHERE id = ?'),
      insertMetric: db.prepare<[number, string, number, number | null, string]>(
        'INSERT OR REPLACE INTO metrics (run_id, name, kimg, value, at) VALUES (?, ?, ?, ?, ?)',
      ),
      series: db.prepare<[number], { name: string; kimg: number; value: number | null }>(
        'SELECT name, kimg, value FROM metrics WHERE run_id = ? ORDER BY name, kimg',
      ),
      seriesSince: db.prepare<[number, number], { name: string; kimg: number; value: number | null }>(
        'SELECT name, kimg, value FROM metrics WHERE run_id = ? AND kimg > ? ORDER BY name, kimg',
      ),
      insertCheckpoint: db.prepare<[number, number, number, Buffer, string, string]>(
        'INSERT INTO checkpoints (run_id, kimg, step, weights, state, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      listCheckpoints: db.prepare<[number], CheckpointRow>(
        `SELECT id, run_id, kimg, step, is_best, created_at, length(weights) AS size, ${STARRED} AS starred FROM checkpoints WHERE run_id = ? ORDER BY kimg`,
      ),
      latestCheckpoint: db.prepare<[number], { id: number }>('SELECT id FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1'),
      latestCheckpointState: db.prepare<[number], { state: string }>('SELECT state FROM checkpoints WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1'),
      getCheckpoint: db.prepare<[number], CheckpointRow & { weights: Buffer; state: string }>(
        `SELECT id, run_id, kimg, step, is_best, created_at, length(weights) AS size, ${STARRED} AS starred, weights, state FROM checkpoints WHERE id = ?`,
      ),
      clearBest: db.prepare<[number]>('UPDATE checkpoints SET is_best = 0 WHERE run_id = ?'),
      markBest: db.prepare<[number]>('UPDATE checkpoints SET is_best = 1 WHERE id = ?'),
      deleteCheckpoint: db.prepare<[number]>('DELETE FROM checkpoints WHERE id = ?'),
      insertPreview: db.prepare<[number, number, Buffer, string]>('INSERT INTO previews (run_id, kimg, png, created_at) VALUES (?, ?, ?, ?)'),
      latestPreview: db.prepare<[number], { id: number; kimg: number; png: Buffer }>(
        'SELECT id, kimg, png FROM previews WHERE run_id = ? ORDER BY kimg DESC, id DESC LIMIT 1',
      ),
      listPreviews: db.prepare<[number], { id: number; kimg: number }>('SELECT id, kimg FROM previews WHERE run_id = ? ORDER BY kimg'),
      getPreview: db.prepare<[number], { id: number; run_id: number; kimg: number; png: Buffer }>('SELECT id, run_id, kimg, png FROM previews WHERE id = ?'),
      starredImages: db.prepare<[number], { id: number; checkpoint_id: number; kimg: number; origin: string; seed: number | null; psi: number | null }>(
        `SELECT g.id, g.checkpoint_id, c.kimg, g.origin, g.seed, g.psi FROM gallery_items g JOIN checkpoints c ON c.id = g.checkpoint_id
         WHERE c.run_id = ? AND g.favourite = 1 AND g.model_id IS NULL ORDER BY c.kimg, g.id`,
      ),
    };
  }

  createRun(name: string, preset: string, config: unknown, kimgTotal: number | null): RunInfo {
    const t = now();
    const { lastInsertRowid } = this.s.insertRun.run(name, preset, JSON.stringify(config), 'queued', kimgTotal, t, t);
    return this.getRun(Number(lastInsertRowid))!;
  }

  getRun(id: number): RunInfo | undefined {
    const row = this.s.getRun.get(id);
    return row ? toRun(row) : undefined;
  }

  listRuns(): RunInfo[] {
    return this.s.listRuns.all().map(toRun);
  }

  /** Deletes a run; its metrics, checkpoints and previews go with it (ON DELETE CASCADE). */
  deleteRun(id: number): void {
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
  }

  setStatus(id: number, status: RunStatus, error: string | null = null): void {
    this.s.setStatus.run(status, error, now(), id);
  }

  setBackend(id: number, backend: string): void {
    this.s.setBackend.run(backend, now(), id);
  }

  setKimgTotal(id: number, kimgTotal: number): void {
    this.s.setTotal.run(kimgTotal, now(), id);
  }

  /** Replaces the run's resolved config (the engine shrank an automatic batch to fit the backend's memory). */
  setConfig(id: number, config: unknown): void {
    this.s.setConfig.run(JSON.stringify(config), now(), id);
  }

  /** One tick of statistics (`Loss/G`, `r_t`, …) at `kimg`, and the run's progress, in one transaction. NaN/inf are stored as NULL. */
  reportTick(runId: number, kimg: number, stats: Readonly<Record<string, number>>): void {
    const at = now();
    this.db.transaction(() => {
      for (const [name, value] of Object.entries(stats)) this.s.insertMetric.run(runId, name, kimg, Number.isFinite(value) ? value : null, at);
      this.s.setProgress.run(kimg, at, runId);
    })();
  }

  /** Every series of a run (optionally only points after `afterKimg`), as name → [kimg, value][]. */
  metricSeries(runId: number, afterKimg?: number): Record<string, Array<[number, number | null]>> {
    const rows = afterKimg === undefined ? this.s.series.all(runId) : this.s.seriesSince.all(runId, afterKimg);
    const out: Record<string, Array<[number, number | null]>> = {};
    for (const r of rows) (out[r.name] ??= []).push([r.kimg, r.value]);
    return out;
  }

  /**
   * Saves a checkpoint atomically and prunes older ones, keeping the newest `keep`, the best, and
   * every checkpoint a starred gallery image was made from (so a star can be sampled again).
   * Returns the new checkpoint's id.
   */
  saveCheckpoint(runId: number, c: { kimg: number; step: number; weights: Buffer; state: unknown }, keep = 3): number {
    return this.db.transaction(() => {
      const { lastInsertRowid } = this.s.insertCheckpoint.run(runId, c.kimg, c.step, c.weights, JSON.stringify(c.state), now());
      const all = this.s.listCheckpoints.all(runId);
      const excess = all.length - keep;
      for (const old of all.slice(0, Math.max(0, excess))) if (old.is_best !== 1 && old.starred === 0) this.s.deleteCheckpoint.run(old.id);
      return Number(lastInsertRowid);
    })();
  }

  listCheckpoints(runId: number): CheckpointInfo[] {
    return this.s.listCheckpoints.all(runId).map(toCheckpoint);
  }

  getCheckpoint(id: number): Checkpoint | undefined {
    const row = this.s.getCheckpoint.get(id);
    return row ? { ...toCheckpoint(row), weights: row.weights, state: JSON.parse(row.state) as unknown } : undefined;
  }

  latestCheckpoint(runId: number): Checkpoint | undefined {
    const row = this.s.latestCheckpoint.get(runId);
    return row ? this.getCheckpoint(row.id) : undefined;
  }

  /** The newest checkpoint's state (JSON) without its weights; undefined when the run has none. */
  latestCheckpointState(runId: number): unknown {
    const row = this.s.latestCheckpointState.get(runId);
    return row ? (JSON.parse(row.state) as unknown) : undefined;
  }

  /** Marks `checkpointId` the run's best (kept when older checkpoints are pruned). */
  markBest(runId: number, checkpointId: number): void {
    this.db.transaction(() => {
      this.s.clearBest.run(runId);
      this.s.markBest.run(checkpointId);
    })();
  }

  /** The starred images that pin this run's checkpoints (deleting the run leaves them unable to be sampled again). */
  starredImages(runId: number): StarredImage[] {
    return this.s.starredImages.all(runId).map((r) => ({
      itemId: r.id,
      checkpointId: r.checkpoint_id,
      kimg: r.kimg,
      label: r.origin === 'seed' && r.seed !== null ? `seed ${r.seed}${r.psi !== null ? `, ψ ${r.psi}` : ''}` : r.origin === 'interpolation' ? 'walk frame' : 'arithmetic',
    }));
  }

  addPreview(runId: number, kimg: number, png: Buffer): number {
    return Number(this.s.insertPreview.run(runId, kimg, png, now()).lastInsertRowid);
  }

  latestPreview(runId: number): { id: number; kimg: number; png: Buffer } | undefined {
    return this.s.latestPreview.get(runId);
  }

  listPreviews(runId: number): Array<{ id: number; kimg: number }> {
    return this.s.listPreviews.all(runId);
  }

  getPreview(id: number): { id: number; runId: number; kimg: number; png: Buffer } | undefined {
    const r = this.s.getPreview.get(id);
    return r ? { id: r.id, runId: r.run_id, kimg: r.kimg, png: r.png } : undefined;
  }
}
