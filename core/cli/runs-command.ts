/**
 * `atelier runs <project>`: the project's runs, newest first — id, preset, status, progress, the
 * quality of its best snapshot (when it was evaluated) and the checkpoint `--run RUN` picks — so
 * the id to `--resume`, `sample` or `export` is one command away. Read-only, like `info`.
 */
import { resolve } from 'node:path';
import { UserError } from '../api/errors.js';
import type { MetricChoice } from '../api/contract.js';
import { metricsConfigFromJson } from '../metrics/options.js';
import { METRICS } from '../metrics/registry.js';
import { shownValue } from '../evaluation/best.js';
import { MetricsStore } from '../store/metrics.js';
import { Project } from '../store/project.js';
import { RunStore, type RunStatus } from '../store/runs.js';
import { parseCommand, type CommandIO } from './args.js';
import { nextForProject } from './next-step.js';

/** One run as `runs` and `info` list it. */
export interface RunRow {
  id: number;
  name: string;
  preset: string;
  status: RunStatus;
  kimgDone: number;
  kimgTotal: number | null;
  backend: string | null;
  /** The run's metric at its best snapshot, else at its newest evaluation; null before any evaluation. */
  quality: { metric: MetricChoice; value: number; kimg: number; checkpointId: number | null } | null;
  /** The checkpoint `--run RUN` uses: the best, else the newest; null before the first checkpoint. */
  checkpoint: { id: number; kimg: number; best: boolean } | null;
  checkpoints: number;
  error: string | null;
}

/** Every run of the project, newest first, from the store alone (no workers). */
export function runRows(project: Project): RunRow[] {
  const runs = new RunStore(project.db);
  const metrics = new MetricsStore(project.db);
  return runs.listRuns().map((run) => {
    const cps = runs.listCheckpoints(run.id);
    const best = cps.find((c) => c.isBest);
    const picked = best ?? cps.at(-1) ?? null;
    const metric = metricsConfigFromJson((run.config as { metrics?: unknown } | null)?.metrics).metric;
    const evaluations = metrics.evaluations(run.id).filter((e) => Number.isFinite(METRICS[metric].rank(e.metrics)));
    const atBest = best ? evaluations.filter((e) => e.checkpointId === best.id).at(-1) : undefined;
    const shown = atBest ?? evaluations.at(-1);
    return {
      id: run.id,
      name: run.name,
      preset: run.preset,
      status: run.status,
      kimgDone: round(run.kimgDone),
      kimgTotal: run.kimgTotal,
      backend: run.backend,
      quality: shown ? { metric, value: shownValue(metric, METRICS[metric].rank(shown.metrics)), kimg: shown.kimg, checkpointId: shown.checkpointId } : null,
      checkpoint: picked ? { id: picked.id, kimg: picked.kimg, best: picked.isBest } : null,
      checkpoints: cps.length,
      error: run.error,
    };
  });
}

const METRIC_WORD: Record<MetricChoice, string> = { kid: 'KID', fid: 'FID', pr: 'precision/recall F1' };

/** 'KID 0.0123 at 2 kimg' (lower is better for KID and FID; higher for F1). */
export function qualityText(q: RunRow['quality']): string {
  if (!q) return 'not evaluated';
  const digits = q.metric === 'kid' ? 4 : q.metric === 'fid' ? 1 : 3;
  return `${METRIC_WORD[q.metric]} ${q.value.toFixed(digits)} at ${q.kimg} kimg`;
}

/** Lines for people: one per run, with its id first. */
export function runLines(rows: readonly RunRow[]): string[] {
  return rows.map((r) => {
    const progress = `${r.kimgDone}${r.kimgTotal !== null ? ` of ${r.kimgTotal}` : ''} kimg`;
    const cp = r.checkpoint ? `checkpoint ${r.checkpoint.id} at ${r.checkpoint.kimg} kimg${r.checkpoint.best ? ' (best)' : ' (newest)'}` : 'no checkpoint yet';
    return `  run ${r.id}  "${r.name}"  ${r.preset} · ${r.status} · ${progress} · ${qualityText(r.quality)} · ${cp}`;
  });
}

export function runsCommand(argv: string[], io: CommandIO): number {
  const usage = 'atelier runs <project.atelier> [--json]';
  const { values, positionals } = parseCommand(argv, {});
  if (values.help) return io.out(`Usage: ${usage}\n\nLists the project's runs, newest first: id, preset, status, kimg trained, quality (the run's\nmetric at its best snapshot, when evaluated) and the checkpoint \`--run RUN\` uses (the best, else\nthe newest). Reads the file without changing it.`), 0;
  if (positionals.length !== 1) throw new UserError('invalid-request', `expected one project file. Usage: ${usage}`);
  const arg = positionals[0]!;
  const project = Project.inspect(resolve(arg));
  try {
    const rows = runRows(project);
    const images = project.summary().counts.images;
    const next = nextForProject(arg, { images, runs: rows });
    if (values.json) {
      io.out(JSON.stringify({ ok: true, path: project.path, runs: rows, next }));
    } else {
      io.out(rows.length === 0 ? `No runs yet in ${project.path}.` : `${rows.length} run${rows.length === 1 ? '' : 's'} in ${project.path}, newest first:`);
      for (const line of runLines(rows)) io.out(line);
      io.out(`Next: ${next}`);
    }
  } finally {
    project.close();
  }
  return 0;
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
