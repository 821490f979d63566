/**
 * `atelier train <project> --preset baseline …`: trains a run in an engine worker, exactly as the
 * studio does (the service's Training on a JobManager), printing a line per tick, or JSON lines
 * with `--json`: started, phase, tick (kimg, step, losses…), checkpoint, metrics, alert, end. Ctrl+C pauses: the worker
 * saves a checkpoint, and the last line says how to resume.
 */
import { resolve } from 'node:path';
import { BACKEND_CHOICES, type BackendChoiceName, type RunSummary, type StudioEvent, type TrainProgress, type TrainSettings } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { JobManager } from '../jobs/job-manager.js';
import { Training } from '../service/training.js';
import { DatasetStore } from '../store/dataset.js';
import { Project } from '../store/project.js';
import { atelierCommand, nextForRun } from './next-step.js';
import { parseCommand, type CommandIO } from './args.js';
import { givenTrainFlags, settingsFromFlags, trainFlagConfig, trainOptionsUsage } from './train-options-cli.js';

const USAGE = `Usage: atelier train <project.atelier> --preset baseline|ada|vision-aided [options]
       atelier train <project.atelier> --resume RUN [--checkpoint C] [--backend NAME] [--json]

Trains a generator on the project's dataset in a worker process, writing statistics, preview grids
and checkpoints into the project file. Ctrl+C pauses (a checkpoint is saved); --resume continues.

Options (each is a setting of the Train view; blank there is the default here):
${trainOptionsUsage()}

Continuing a run:
  --resume RUN            continue run RUN from its newest checkpoint
  --checkpoint C          with --resume: from checkpoint C instead (e.g. the best): a new run branches
                          off there on a fresh random stream; run RUN stays as it was
  --json                  JSON lines: started, phase, tick, checkpoint, metrics (KID, FID,
                          precision/recall at checkpoints), alert (health: what happened, what to do),
                          select (vision-aided: the judge added and each network's probe accuracy), end`;

type Ended = Pick<RunSummary, 'status' | 'error' | 'kimgDone'>;

const PHASE_WORDS: Record<TrainProgress['phase'], string> = { starting: 'starting the backend', loading: 'loading the dataset', training: 'training', saving: 'saving', evaluating: 'evaluating' };

export async function trainCommand(argv: string[], io: CommandIO): Promise<number> {
  const parsed = parseCommand(argv, { ...trainFlagConfig(), resume: { type: 'string' }, checkpoint: { type: 'string' } });
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const positionals = parsed.positionals;
  if (values.help) return io.out(USAGE), 0;
  const json = values.json === true;
  const [projectArg] = positionals;
  if (projectArg === undefined || positionals.length > 1) throw new UserError('invalid-request', 'expected one project file. Usage: atelier train <project.atelier> --preset baseline');
  const backend = backendOption(values.backend as string | undefined);
  const resumeId = values.resume === undefined ? undefined : intOption('--resume', values.resume as string, 1);
  const fromCheckpoint = values.checkpoint === undefined ? undefined : intOption('--checkpoint', values.checkpoint as string, 1);
  if (fromCheckpoint !== undefined && resumeId === undefined) throw new UserError('invalid-request', '--checkpoint picks where --resume RUN continues from: give --resume too.');
  if (resumeId === undefined && values.preset === undefined) throw new UserError('invalid-request', 'say which preset to train with (--preset baseline), or which run to continue (--resume RUN).');
  const settingFlags = givenTrainFlags(values).filter((f) => f !== '--backend');
  if (resumeId !== undefined && settingFlags.length > 0) {
    throw new UserError('invalid-request', `--resume continues a run with the settings it started with (its augmentation strength p included): leave out ${settingFlags.join(', ')}.`);
  }

  const project = Project.open(resolve(projectArg));
  const dataset = new DatasetStore(project.db);
  let runId = 0;
  let onEnd: (run: Ended) => void = () => {};
  const ended = new Promise<Ended>((r) => (onEnd = r));
  const printed = new Set<number>();
  // The command's own JobManager for the project it opened, as the studio has one per open project.
  const jobs = new JobManager(project);
  const training = new Training(jobs, () => dataset, (e: StudioEvent) => {
    if (e.type === 'run.progress' && e.progress.runId === runId) onProgress(e.progress);
    if (e.type === 'run.changed' && e.run.id === runId && e.run.status !== 'running' && e.run.status !== 'queued') onEnd(e.run);
  });

  const line = (doc: object): void => io.out(JSON.stringify(doc));
  const newCheckpoints = (): void => {
    for (const c of training.runs.listCheckpoints(runId)) {
      if (printed.has(c.id)) continue;
      printed.add(c.id);
      if (json) line({ type: 'checkpoint', runId, id: c.id, kimg: round(c.kimg), step: c.step, bytes: c.sizeBytes });
      else io.out(`  checkpoint at ${round(c.kimg)} kimg (step ${c.step})`);
    }
  };
  let phase = '';
  const onProgress = (p: TrainProgress): void => {
    newCheckpoints();
    // Health alerts and evaluations: one line each.
    for (const a of p.alerts ?? []) {
      if (json) line({ type: 'alert', runId, kimg: round(a.kimg), code: a.code, severity: a.severity, what: a.what, todo: a.todo });
      else io.err(`  ${a.severity === 'critical' ? 'Problem' : 'Warning'}: ${a.what} ${a.todo}`);
    }
    if (p.evaluation) {
      const e = p.evaluation;
      if (json) line({ type: 'metrics', runId, kimg: round(e.kimg), checkpointId: e.checkpointId, best: e.best, values: e.metrics, realCount: e.realCount, fakeCount: e.fakeCount, seconds: round(e.seconds, 1), reference: e.reference });
      else io.out(`  metrics at ${round(e.kimg)} kimg: ${metricsLine(e.metrics)}${e.best ? ' (best so far)' : ''}`);
    }
    if (p.vision?.selected) {
      const v = p.vision.selected;
      if (json) line({ type: 'select', runId, kimg: round(v.kimg), index: v.index, picked: v.picked, accuracies: Object.fromEntries(Object.entries(v.accuracies).map(([k, a]) => [k, round(a as number, 4)])), images: v.images });
      else io.out(`  added judge ${v.picked ?? '(none left)'} at ${round(v.kimg)} kimg: ${Object.entries(v.accuracies).map(([k, a]) => `${k} told your images from the samples ${(100 * (a as number)).toFixed(0)}% of the time`).join('; ')}`);
    }
    if (p.phase === 'evaluating') return; // progress within an evaluation: not a phase of its own in the log
    if (p.phase !== phase && p.phase !== 'saving') {
      phase = p.phase;
      if (json) line({ type: 'phase', runId, phase, step: p.step, kimg: round(p.kimg), backend: p.backend });
      else io.out(`  ${PHASE_WORDS[p.phase]}${p.phase === 'training' ? ` on ${p.backend} from step ${p.step}` : ''}…`);
    }
    if (p.previewId === undefined) return; // one line per tick
    if (json) line({ type: 'tick', runId, kimg: round(p.kimg), kimgTotal: p.kimgTotal, step: p.step, imgPerSec: round(p.imgPerSec, 1), etaSeconds: p.etaSeconds, backend: p.backend, stats: p.stats, previewId: p.previewId });
    else io.out(tickLine(p));
  };

  let onSigint: (() => void) | null = null;
  try {
    // Existing checkpoints of a resumed run are not news.
    if (resumeId !== undefined) for (const c of training.runs.listCheckpoints(resumeId)) printed.add(c.id);
    const run = resumeId !== undefined ? training.resume(resumeId, backend, fromCheckpoint) : await training.start(await settings(values, training));
    runId = run.id;
    // A branch (--checkpoint) starts with a copy of that checkpoint: not news either.
    if (resumeId !== undefined && runId !== resumeId) for (const c of training.runs.listCheckpoints(runId)) printed.add(c.id);
    const branched = resumeId !== undefined && runId !== resumeId ? { branchedFrom: { runId: resumeId, checkpointId: fromCheckpoint } } : {};
    // Where training continues: the newest checkpoint, not the last tick before a pause or crash (ticks after it are redone).
    const startKimg = training.runs.latestCheckpoint(runId)?.kimg ?? 0;
    if (json) line({ type: 'started', runId, name: run.name, preset: run.preset, kimgDone: round(startKimg), kimgTotal: run.kimgTotal, resumed: resumeId !== undefined, ...branched });
    else io.out(`${resumeId !== undefined ? 'Resuming' : 'Training'} "${run.name}" (run ${runId}) in ${project.path}. Ctrl+C pauses and saves a checkpoint.`);

    let interrupted = false;
    let interruptedAt = 0;
    onSigint = () => {
      // Tools like `timeout` signal the process and then its group: one press can arrive twice.
      if (interrupted && Date.now() - interruptedAt < 500) return;
      if (interrupted) {
        // A second Ctrl+C: leave now. The worker takes its lost parent as a pause and saves alone.
        io.err('atelier train: leaving; the worker finishes saving its checkpoint by itself.');
        process.exit(130);
      }
      interrupted = true;
      interruptedAt = Date.now();
      if (!json) io.out('Pausing: saving a checkpoint… (Ctrl+C again to leave without waiting)');
      try {
        training.pause(runId);
      } catch {
        // Already finishing.
      }
    };
    process.on('SIGINT', onSigint);

    const end = await ended;
    newCheckpoints();
    const cps = training.runs.listCheckpoints(runId);
    // The newest checkpoint: where a resume continues (a run that finished saved one at its end).
    const newest = cps.reduce<(typeof cps)[number] | null>((a, c) => (a === null || c.step > a.step ? c : a), null);
    const step = newest?.step ?? 0;
    const kimg = round(newest?.kimg ?? 0);
    const resume = atelierCommand('train', projectArg, '--resume', String(runId));
    const resumable = end.status === 'paused' || end.status === 'stopped' || end.status === 'failed';
    const next = resumable && cps.length > 0 ? resume : cps.length > 0 ? nextForRun(projectArg, runId) : atelierCommand('train', projectArg, '--preset', run.preset);
    if (json) line({ type: 'end', runId, status: end.status, kimg, step, error: end.error, ...(resumable ? { resume } : {}), next });
    else if (end.status === 'done') io.out(`Done: "${run.name}" trained ${kimg} kimg.\nNext: ${next}  (then ${atelierCommand('eval', projectArg, '--run', String(runId))} scores it)`);
    else if (end.status === 'failed') io.err(`atelier train: ${end.error ?? 'the run failed'}${resumable && cps.length > 0 ? ` To continue: ${resume}` : ''}`);
    else {
      if (end.error) io.err(`atelier train: ${end.error}`); // paused itself (it diverged)
      io.out(`${end.status === 'paused' ? 'Paused' : 'Stopped'} at ${kimg} kimg (step ${step}). Resume with: ${resume}`);
    }
    // Paused by the user: done for now (0). Paused by itself (diverged, the disk full) or failed: 1, with the reason said.
    return end.status === 'failed' || (end.status === 'paused' && end.error !== null) ? 1 : 0;
  } finally {
    if (onSigint) process.off('SIGINT', onSigint);
    await jobs.shutdown();
    project.close();
  }
}

async function settings(values: Record<string, unknown>, training: Training): Promise<TrainSettings> {
  const defaults = (await training.presets()).defaults;
  if (defaults === null) throw new UserError('invalid-request', 'The dataset is empty: import images first (atelier import <project> <folder>).');
  if (values['freeze-d'] !== undefined && values.from === undefined) {
    throw new UserError('invalid-request', "--freeze-d only applies when starting from another run's weights (--from RUN).");
  }
  // The same checks as a request from the studio.
  return settingsFromFlags(values, { kimg: defaults.kimg });
}

/** 'quality 34/100 · KID 0.0123 ± 0.0010 · FID 45.6 · precision 0.61 · recall 0.34' (the quality once the run's scale is known). */
export function metricsLine(m: Record<string, number>): string {
  const v = (name: string, digits: number): string | null => (m[name] === undefined ? null : (m[name] as number).toFixed(digits));
  const parts = [
    v('Metrics/quality', 0) !== null ? `quality ${v('Metrics/quality', 0)}/100` : null,
    v('Metrics/kid', 4) !== null ? `KID ${v('Metrics/kid', 4)}${v('Metrics/kid_std', 4) !== null ? ` ± ${v('Metrics/kid_std', 4)}` : ''}` : null,
    v('Metrics/fid', 2) !== null ? `FID ${v('Metrics/fid', 2)}` : null,
    v('Metrics/precision', 3) !== null ? `precision ${v('Metrics/precision', 3)}` : null,
    v('Metrics/recall', 3) !== null ? `recall ${v('Metrics/recall', 3)}` : null,
  ];
  return parts.filter((x) => x !== null).join(' · ');
}

function tickLine(p: TrainProgress): string {
  const s = p.stats;
  const fmt = (name: string): string => (s[name] === undefined || !Number.isFinite(s[name]) ? '' : ` · ${name} ${(s[name] as number).toFixed(3)}`);
  const eta = p.etaSeconds === null ? '' : ` · ETA ${p.etaSeconds} s`;
  return `  kimg ${round(p.kimg)} / ${p.kimgTotal} · step ${p.step} · ${p.imgPerSec.toFixed(1)} img/s${eta}${fmt('Loss/G')}${fmt('Loss/D')}${fmt('r_t')}${fmt('Augment/p')}`;
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

function backendOption(raw: string | undefined): BackendChoiceName | undefined {
  if (raw === undefined) return undefined;
  if (!(BACKEND_CHOICES as readonly string[]).includes(raw)) throw new UserError('invalid-request', `--backend must be one of ${BACKEND_CHOICES.join(', ')}, not "${raw}".`, '--backend');
  return raw as BackendChoiceName;
}

function intOption(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UserError('invalid-request', `${name} must be a whole number ≥ ${min}, not "${raw}".`, name);
  return n;
}


