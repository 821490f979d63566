/**
 * `atelier eval <project> --run RUN [--checkpoint C] [--metric kid|fid|pr] [--json]`: evaluates a
 * checkpoint of a run (default: its newest) in an evaluate worker, as the studio does, and prints
 * KID, FID and precision/recall (the chosen metric first). The result is kept with the run.
 */
import { resolve } from 'node:path';
import { BACKEND_CHOICES, METRIC_CHOICES, type BackendChoiceName, type EvaluationProgress, type MetricChoice, type StudioEvent } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { DEFAULT_INPUT_RANGE, extractorInfo } from '../metrics/extractor-info.js';
import { JobManager } from '../jobs/job-manager.js';
import { Evaluation } from '../service/evaluation.js';
import { metricsDetail } from '../service/training.js';
import { MetricsStore } from '../store/metrics.js';
import { Project } from '../store/project.js';
import { RunStore } from '../store/runs.js';
import { parseCommand, type CommandIO } from './args.js';
import { metricsLine } from './train-command.js';
import { nextForRun } from './next-step.js';

const USAGE = `Usage: atelier eval <project.atelier> --run RUN [options]

Evaluates a checkpoint of a run in a worker process: features of the dataset (cached in the
project) and of images generated from fixed latents, from a pretrained network, then KID, FID and
precision/recall. By default the features come from the InceptionV3 bundled with nsfwjs: not the
reference TF-Inception weights, so the numbers compare runs within the studio, not with papers.

Options:
  --run RUN            the run
  --list               list the run's checkpoints (ids, kimg, the best) and its evaluations; evaluates nothing
  --checkpoint C       its checkpoint C (default: the newest; ids from --list)
  --metric M           kid, fid or pr: the value printed first (default: the run's metric)
  --reals N            dataset images to compare with, 4–5000 (default: the run's evaluation size)
  --fakes N            generated images, 4–5000 (default: the run's evaluation size)
  --inception PATH     model.json of a TF.js conversion of the standard FID Inception (2048 pool
                       features) for numbers comparable with papers
  --input-range LO,HI  the pixel range that model takes (default 0,255)
  --backend NAME       auto, tensorflow-gpu, tensorflow, webgpu, wasm or cpu
  --json               one JSON document: values, sample counts, extractor, seconds`;

const MAIN: Record<MetricChoice, string[]> = { kid: ['Metrics/kid', 'Metrics/kid_std'], fid: ['Metrics/fid'], pr: ['Metrics/precision', 'Metrics/recall'] };

export async function evalCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(argv, {
    run: { type: 'string' },
    checkpoint: { type: 'string' },
    metric: { type: 'string' },
    reals: { type: 'string' },
    fakes: { type: 'string' },
    inception: { type: 'string' },
    'input-range': { type: 'string' },
    backend: { type: 'string' },
    list: { type: 'boolean' },
  });
  if (values.help) return io.out(USAGE), 0;
  const json = values.json === true;
  const [projectArg] = positionals;
  if (projectArg === undefined || positionals.length > 1) throw new UserError('invalid-request', 'expected one project file. Usage: atelier eval <project.atelier> --run RUN');
  if (values.run === undefined) throw new UserError('invalid-request', 'say which run to evaluate (--run RUN; `atelier info` lists them).');
  const runId = int('--run', values.run as string, 1);
  const checkpointId = values.checkpoint === undefined ? undefined : int('--checkpoint', values.checkpoint as string, 1);
  const metric = values.metric as string | undefined;
  if (metric !== undefined && !(METRIC_CHOICES as readonly string[]).includes(metric)) throw new UserError('invalid-request', `--metric must be one of ${METRIC_CHOICES.join(', ')}, not "${metric}".`, '--metric');
  const backend = values.backend as string | undefined;
  if (backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(backend)) throw new UserError('invalid-request', `--backend must be one of ${BACKEND_CHOICES.join(', ')}, not "${backend}".`, '--backend');
  let extractor: { path: string; inputRange: [number, number] } | undefined;
  if (values.inception !== undefined) extractor = { path: resolve(values.inception as string), inputRange: range(values['input-range'] as string | undefined) };
  else if (values['input-range'] !== undefined) throw new UserError('invalid-request', '--input-range goes with --inception PATH.');

  const project = Project.open(resolve(projectArg));
  if (values.list === true) {
    // Reads only: no workers, no jobs.
    try {
      return listRun(project, runId, json, io);
    } finally {
      project.close();
    }
  }
  // The command's own JobManager for the project it opened, as the studio has one per open project.
  const jobs = new JobManager(project);
  let jobId = -1;
  const evaluation = new Evaluation(jobs, (e: StudioEvent) => {
    if (e.type !== 'run.evaluation' || e.progress.jobId !== jobId || e.progress.state !== 'running' || json) return;
    io.err(`  ${e.progress.done} of ${e.progress.total} images through the feature extractor`);
  });
  let onSigint: (() => void) | null = null;
  try {
    const { progress, done } = evaluation.evaluate({
      runId,
      ...(checkpointId !== undefined ? { checkpointId } : {}),
      ...(values.reals !== undefined ? { reals: int('--reals', values.reals as string, 4, MAX_SAMPLES) } : {}),
      ...(values.fakes !== undefined ? { fakes: int('--fakes', values.fakes as string, 4, MAX_SAMPLES) } : {}),
      ...(backend !== undefined ? { backend: backend as BackendChoiceName } : {}),
      ...(extractor !== undefined ? { extractor } : {}),
    });
    jobId = progress.jobId;
    const run = evaluation.runs.getRun(runId)!;
    const cp = evaluation.runs.getCheckpoint(progress.checkpointId)!;
    if (!json) io.out(`Evaluating "${run.name}" (run ${runId}) at checkpoint ${cp.id}, ${cp.kimg} kimg. Ctrl+C stops.`);
    onSigint = () => {
      try {
        evaluation.stop(jobId);
      } catch {
        // Already finishing.
      }
    };
    process.on('SIGINT', onSigint);
    const end: EvaluationProgress = await done;
    if (end.state !== 'done' || end.evaluation === null) throw new UserError('internal', end.error ?? 'The evaluation failed.');
    const e = end.evaluation;
    const detail = metricsDetail(evaluation.runs, evaluation.metricsStore, evaluation.runs.getRun(runId)!).metrics;
    const chosen = (metric as MetricChoice | undefined) ?? detail.metric;
    const info = extractor !== undefined ? extractorInfo(extractor) : detail.extractor;
    const first: Record<string, number> = Object.fromEntries(MAIN[chosen].flatMap((k) => (e.metrics[k] === undefined ? [] : [[k, e.metrics[k]!]])));
    const next = nextForRun(projectArg, runId, e.checkpointId ?? undefined);
    if (json) {
      io.out(
        JSON.stringify({
          ok: true,
          next,
          runId,
          checkpointId: e.checkpointId,
          kimg: e.kimg,
          evaluationId: e.id,
          metric: chosen,
          value: first,
          values: e.metrics,
          realCount: e.realCount,
          fakeCount: e.fakeCount,
          extractor: { id: e.extractor, title: info.title, reference: e.reference },
          note: info.note,
          seconds: Math.round(e.seconds * 10) / 10,
        }),
      );
    } else {
      io.out(`  ${metricsLine(first)}`);
      io.out(`  all: ${metricsLine(e.metrics)} · diversity ${(e.metrics['Metrics/diversity'] ?? NaN).toFixed(3)}`);
      io.out(`  ${e.realCount} dataset images, ${e.fakeCount} generated, ${e.seconds.toFixed(1)} s. ${info.note}`);
      io.out(`Next: ${next}`);
    }
    return 0;
  } finally {
    if (onSigint) process.off('SIGINT', onSigint);
    await jobs.shutdown();
    project.close();
  }
}

/** The run's checkpoints and evaluations, for picking one. */
function listRun(project: Project, runId: number, json: boolean, io: CommandIO): number {
  const runs = new RunStore(project.db);
  const run = runs.getRun(runId);
  if (!run) throw new UserError('not-found', `There is no run ${runId} in this project.`);
  const d = metricsDetail(runs, new MetricsStore(project.db), run);
  const checkpoints = runs.listCheckpoints(runId).map(({ runId: _r, ...c }) => c);
  if (json) {
    io.out(JSON.stringify({ ok: true, runId, name: run.name, metric: d.metrics.metric, best: d.best, checkpoints, evaluations: d.evaluations, note: d.metrics.extractor.note }));
    return 0;
  }
  io.out(`"${run.name}" (run ${runId}), best snapshot by ${d.metrics.metric.toUpperCase()}:`);
  for (const c of checkpoints) {
    const e = d.evaluations.filter((x) => x.checkpointId === c.id).at(-1);
    io.out(`  checkpoint ${c.id} at ${c.kimg} kimg (step ${c.step})${c.isBest ? ' · best' : ''}${e ? ` · ${metricsLine(e.metrics)}` : ''}`);
  }
  if (checkpoints.length === 0) io.out('  no checkpoints yet');
  return 0;
}

/** The metrics hold N × N products (KID, precision/recall): 5000 images a side at most (the contract's limit too). */
const MAX_SAMPLES = 5000;

function int(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError('invalid-request', `${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, not "${raw}".`, name);
  return n;
}

function range(raw: string | undefined): [number, number] {
  if (raw === undefined) return DEFAULT_INPUT_RANGE;
  const m = /^\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*$/.exec(raw);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || !Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) throw new UserError('invalid-request', `--input-range takes LO,HI with LO < HI (e.g. 0,255 or -1,1), not "${raw}".`, '--input-range');
  return [lo, hi];
}
