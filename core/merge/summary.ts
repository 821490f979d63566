/**
 * A stored merge (core/store/merges.ts) as the Merge view, the service and `atelier merge` show
 * it: its classes and sources, its stages in words with what each took, and where it stands at
 * its last checkpoint. From the project file alone (no worker).
 */
import type { MergeDetail, MergeEvaluationInfo, MergeSummary } from '../api/contract.js';
import type { MergeRow, MergeStore } from '../store/merges.js';
import type { MergeState } from './merge.js';

/** A merge row as the views show it. */
export function mergeSummary(row: MergeRow): MergeSummary {
  const state = row.state === null ? null : (JSON.parse(row.state) as MergeState);
  const plan = state?.plan ?? null;
  const done = new Map((state?.done ?? []).map((d) => [d.stage, d]));
  const stages = (plan?.stages ?? []).map((s, i) => {
    const d = done.get(i);
    return { kind: s.kind, source: s.source, kimg: s.kimg, title: s.title, done: d ? { steps: d.steps, kimg: d.kimg, seconds: Math.round(d.seconds * 10) / 10 } : null };
  });
  const total = stages.reduce((a, s) => a + s.kimg, 0);
  const before = stages.slice(0, state?.stage ?? 0).reduce((a, s) => a + s.kimg, 0);
  const current = (state?.loop?.nimg ?? 0) / 1000;
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    error: row.error,
    classes: plan?.classes ?? [],
    sources: (plan?.sources ?? []).map((s) => ({ label: s.label, kind: s.kind, ref: s.ref })),
    root: plan?.root ?? 0,
    stages,
    stage: state?.stage ?? 0,
    step: state?.loop?.step ?? 0,
    fraction: row.status === 'done' ? 1 : total > 0 ? Math.min(1, (before + current) / total) : 0,
    notes: plan?.notes ?? [],
    modelId: row.modelId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** With its newest preview strip per class and its per-class evaluations. */
export function mergeDetail(store: MergeStore, row: MergeRow): MergeDetail {
  return {
    ...mergeSummary(row),
    previews: store.previews(row.id).map((p) => ({ id: p.id, classIndex: p.classIndex, className: p.className, stage: p.stage, kimg: p.kimg, dataUrl: `data:image/png;base64,${p.png.toString('base64')}` })),
    evaluations: store.evaluations(row.id).map((e) => ({ stage: e.stage, step: e.step, fraction: e.fraction, evaluation: JSON.parse(e.evaluation) as MergeEvaluationInfo })),
  };
}
