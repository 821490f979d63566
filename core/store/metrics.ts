/**
 * What the metrics keep in the project file (migration 5, core/store/migrations/005-metrics.ts):
 * the dataset images' features per extractor, evaluations of checkpoints, health alerts, and the
 * project's own feature extractor.
 * Training workers and evaluation workers write here on their own connections; the service reads.
 */
import type Database from 'better-sqlite3';
import type { AlertSeverity, EvaluationSummary, NearestPairSummary, RunAlert } from '../api/contract.js';
import type { CustomExtractorSpec } from '../api/run-config.js';

export type { CustomExtractorSpec } from '../api/run-config.js';

/** An alert before it is stored. */
export interface NewAlert {
  kimg: number;
  code: string;
  severity: AlertSeverity;
  what: string;
  todo: string;
}

export interface NewEvaluation {
  runId: number;
  checkpointId: number | null;
  kimg: number;
  source: EvaluationSummary['source'];
  extractor: string;
  reference: boolean;
  realCount: number;
  fakeCount: number;
  metrics: Record<string, number>;
  seconds: number;
}

interface EvaluationRow {
  id: number;
  run_id: number;
  checkpoint_id: number | null;
  kimg: number;
  source: EvaluationSummary['source'];
  extractor: string;
  reference: number;
  real_count: number;
  fake_count: number;
  metrics: string;
  seconds: number;
  created_at: string;
}

const toEvaluation = (r: EvaluationRow): EvaluationSummary => ({
  id: r.id,
  checkpointId: r.checkpoint_id,
  kimg: r.kimg,
  source: r.source,
  extractor: r.extractor,
  reference: r.reference === 1,
  realCount: r.real_count,
  fakeCount: r.fake_count,
  // JSON has no NaN: values that were not finite come back as null; they are left out.
  metrics: Object.fromEntries(Object.entries(JSON.parse(r.metrics) as Record<string, number | null>).filter((e): e is [string, number] => typeof e[1] === 'number')),
  seconds: r.seconds,
  createdAt: r.created_at,
});

interface AlertRow {
  id: number;
  kimg: number;
  code: string;
  severity: AlertSeverity;
  what: string;
  todo: string;
  created_at: string;
}

const toAlert = (r: AlertRow): RunAlert => ({ id: r.id, kimg: r.kimg, code: r.code, severity: r.severity, what: r.what, todo: r.todo, createdAt: r.created_at });

const EXTRACTOR_KEY = 'metrics.extractor';
const NEAREST_KEY = 'metrics.nearest.';

export class MetricsStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      feature: db.prepare<[string, number], { features: Buffer }>('SELECT features FROM image_features WHERE extractor = ? AND image_id = ?'),
      putFeature: db.prepare<[number, string, Buffer]>('INSERT OR REPLACE INTO image_features (image_id, extractor, features) VALUES (?, ?, ?)'),
      countFeatures: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM image_features WHERE extractor = ?'),
      addEvaluation: db.prepare<[number, number | null, number, string, string, number, number, number, string, number, string]>(
        'INSERT INTO evaluations (run_id, checkpoint_id, kimg, source, extractor, reference, real_count, fake_count, metrics, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      getEvaluation: db.prepare<[number], EvaluationRow>('SELECT * FROM evaluations WHERE id = ?'),
      evaluations: db.prepare<[number], EvaluationRow>('SELECT * FROM evaluations WHERE run_id = ? ORDER BY kimg, id'),
      addAlert: db.prepare<[number, number, string, string, string, string, string]>(
        'INSERT INTO run_alerts (run_id, kimg, code, severity, what, todo, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      getAlert: db.prepare<[number], AlertRow>('SELECT id, kimg, code, severity, what, todo, created_at FROM run_alerts WHERE id = ?'),
      alerts: db.prepare<[number], AlertRow>('SELECT id, kimg, code, severity, what, todo, created_at FROM run_alerts WHERE run_id = ? ORDER BY id'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM project_meta WHERE key = ?'),
      putMeta: db.prepare<[string, string]>('INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      deleteMeta: db.prepare<[string]>('DELETE FROM project_meta WHERE key = ?'),
    };
  }

  /** Cached features of these images under `extractor` (images without them are absent from the map). */
  imageFeatures(extractor: string, imageIds: readonly number[]): Map<number, Float32Array> {
    const out = new Map<number, Float32Array>();
    for (const id of imageIds) {
      const row = this.s.feature.get(extractor, id);
      if (!row) continue;
      // An aligned copy (SQLite's Buffer need not start on a 4-byte boundary).
      const f = new Float32Array(row.features.length / 4);
      new Uint8Array(f.buffer).set(row.features);
      out.set(id, f);
    }
    return out;
  }

  /** Stores features of dataset images (one transaction). */
  saveImageFeatures(extractor: string, entries: ReadonlyArray<{ imageId: number; features: Float32Array }>): void {
    this.db.transaction(() => {
      for (const e of entries) this.s.putFeature.run(e.imageId, extractor, Buffer.from(e.features.buffer, e.features.byteOffset, e.features.byteLength));
    })();
  }

  /** How many images have features under `extractor`. */
  featureCount(extractor: string): number {
    return this.s.countFeatures.get(extractor)!.n;
  }

  addEvaluation(e: NewEvaluation): EvaluationSummary {
    const finite = Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
    const { lastInsertRowid } = this.s.addEvaluation.run(
      e.runId,
      e.checkpointId,
      e.kimg,
      e.source,
      e.extractor,
      e.reference ? 1 : 0,
      e.realCount,
      e.fakeCount,
      JSON.stringify(finite),
      e.seconds,
      new Date().toISOString(),
    );
    return toEvaluation(this.s.getEvaluation.get(Number(lastInsertRowid))!);
  }

  evaluations(runId: number): EvaluationSummary[] {
    return this.s.evaluations.all(runId).map(toEvaluation);
  }

  addAlert(runId: number, a: NewAlert): RunAlert {
    const { lastInsertRowid } = this.s.addAlert.run(runId, a.kimg, a.code, a.severity, a.what, a.todo, new Date().toISOString());
    return toAlert(this.s.getAlert.get(Number(lastInsertRowid))!);
  }

  alerts(runId: number): RunAlert[] {
    return this.s.alerts.all(runId).map(toAlert);
  }

  /**
   * A few generated images of an evaluation beside their nearest dataset image (PNGs), kept under
   * the project's key–value table (no schema change: a handful of small PNGs per evaluation).
   */
  saveNearest(evaluationId: number, pairs: ReadonlyArray<{ realImageId: number; ratio: number; distance: number; samplePng: Buffer; realPng: Buffer }>): void {
    const value = pairs.map((p) => ({ imageId: p.realImageId, ratio: Number.isFinite(p.ratio) ? p.ratio : null, distance: p.distance, sample: p.samplePng.toString('base64'), real: p.realPng.toString('base64') }));
    this.s.putMeta.run(`${NEAREST_KEY}${evaluationId}`, JSON.stringify(value));
  }

  /** The nearest pairs of an evaluation, PNGs as data URLs (empty when it kept none). */
  nearest(evaluationId: number): NearestPairSummary[] {
    const row = this.s.getMeta.get(`${NEAREST_KEY}${evaluationId}`);
    if (!row) return [];
    const pairs = JSON.parse(row.value) as Array<{ imageId: number; ratio: number | null; sample: string; real: string }>;
    return pairs.map((p) => ({ imageId: p.imageId, ratio: p.ratio ?? NaN, sample: `data:image/png;base64,${p.sample}`, real: `data:image/png;base64,${p.real}` }));
  }

  /** Drops the nearest pairs of evaluations that no longer exist (a deleted run's). */
  pruneNearest(): void {
    this.db.prepare(`DELETE FROM project_meta WHERE key LIKE '${NEAREST_KEY}%' AND CAST(substr(key, ${NEAREST_KEY.length + 1}) AS INTEGER) NOT IN (SELECT id FROM evaluations)`).run();
  }

  /** The project's own feature extractor, or null for the bundled one. */
  extractor(): CustomExtractorSpec | null {
    const row = this.s.getMeta.get(EXTRACTOR_KEY);
    return row ? (JSON.parse(row.value) as CustomExtractorSpec) : null;
  }

  setExtractor(spec: CustomExtractorSpec | null): void {
    if (spec === null) this.s.deleteMeta.run(EXTRACTOR_KEY);
    else this.s.putMeta.run(EXTRACTOR_KEY, JSON.stringify(spec));
  }
}
