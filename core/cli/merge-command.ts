/**
 * `atelier merge <project> --sources model:A,run:3,other.onnx,export/ …`: merges generators into
 * one class-conditional model in an engine worker, exactly as the studio's Merge view does (the
 * service's Merging on a JobManager), printing a line per stage, tick and checkpoint, or JSON
 * lines with `--json`. Ctrl+C pauses (a checkpoint is saved); `--resume MERGE` continues at the
 * same stage and step. The last line says what to run next.
 */
import { resolve } from 'node:path';
import { BACKEND_CHOICES, type BackendChoiceName, type MergeProgressInfo, type MergeRequest, type MergeSourceRequest, type MergeSummary, type StudioEvent } from '../api/contract.js';
import { mergeRequestSchema } from '../api/merge.js';
import { UserError } from '../api/errors.js';
import { JobManager } from '../jobs/job-manager.js';
import { parseSourceSpec } from '../merge/open.js';
import { Merging } from '../service/merging.js';
import { ModelStore } from '../store/models.js';
import { Project } from '../store/project.js';
import { parseCommand, type CommandIO } from './args.js';
import { atelierCommand, nextForMerge } from './next-step.js';

const USAGE = `Usage: atelier merge <project.atelier> --sources S1,S2[,…] --kimg-root K --kimg-merge K [options]
       atelier merge <project.atelier> --resume MERGE [--backend NAME] [--json]

Merges two or more generators into one model with a class per generator, without their images
(GAN Cocktail): each is "rooted" on one root generator, the networks are averaged, then fine-tuned
on samples of every generator. Ctrl+C pauses (a checkpoint is saved); --resume continues.

Sources (comma-separated, in order):
  model:NAME              a model of the project (name or id)
  run:RUN[:CHECKPOINT]    a run's checkpoint (default: its best, else its newest)
  PATH.onnx               a generator exported to ONNX by another tool
  PATH                    a TF.js export made by the studio (its folder)

Options:
  --classes a,b           the class name of each source (default: the sources' names)
  --weights 1,1           each source's share of the images (default: equal)
  --root M                the root: a position (1, 2, …), a source as written, or a model name (default: the first)
  --kimg-root K           the length of each rooting stage, in thousands of images
  --kimg-merge K          the length of the joint fine-tune, in thousands of images
  --resolution R          the merged model's resolution (default: the root's)
  --name NAME             the merged model's name (default: its classes joined with " + ")
  --seed S, --batch B, --backend NAME
  --tick-kimg K           previews and statistics every K kimg (default: a 50th of each stage)
  --snapshot-ticks N      a checkpoint every N ticks (default 5)
  --eval-images N         images per class for the per-class quality (KID); 0: none (default 64)
  --eval-every N          evaluate every N checkpoints of the joint fine-tune (0: only at the end; default 2)
  --resume MERGE          continue merge MERGE from its last checkpoint
  --json                  JSON lines: started, stage, tick, checkpoint, evaluation, end`;

const FLAGS = {
  sources: { type: 'string' },
  classes: { type: 'string' },
  weights: { type: 'string' },
  root: { type: 'string' },
  'kimg-root': { type: 'string' },
  'kimg-merge': { type: 'string' },
  resolution: { type: 'string' },
  name: { type: 'string' },
  seed: { type: 'string' },
  batch: { type: 'string' },
  backend: { type: 'string' },
  'tick-kimg': { type: 'string' },
  'snapshot-ticks': { type: 'string' },
  'eval-images': { type: 'string' },
  'eval-every': { type: 'string' },
  resume: { type: 'string' },
} as const;

const PHASE_WORDS: Record<MergeProgressInfo['phase'], string> = { starting: 'starting', training: 'training', averaging: 'averaging', saving: 'saving', evaluating: 'measuring each class', done: 'done' };

export async function mergeCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(argv, FLAGS);
  if (values.help) return io.out(USAGE), 0;
  const json = values.json === true;
  const [projectArg] = positionals;
  if (projectArg === undefined || positionals.length > 1) throw new UserError('invalid-request', 'expected one project file. Usage: atelier merge <project.atelier> --sources model:A,model:B --kimg-root 1 --kimg-merge 2');
  const backend = values.backend === undefined ? undefined : backendOption(values.backend);
  const resumeId = values.resume === undefined ? undefined : whole('--resume', values.resume, 1);
  if (resumeId !== undefined) {
    const extra = Object.keys(FLAGS).filter((k) => k !== 'resume' && k !== 'backend' && values[k as keyof typeof values] !== undefined);
    if (extra.length > 0) throw new UserError('invalid-request', `--resume continues a merge with the settings it started with: leave out ${extra.map((k) => `--${k}`).join(', ')}.`);
  } else if (values.sources === undefined) {
    throw new UserError('invalid-request', 'say which generators to merge (--sources model:A,model:B), or which merge to continue (--resume MERGE).', '--sources');
  }

  const project = Project.open(resolve(projectArg));
  const jobs = new JobManager(project);
  const line = (doc: object): void => io.out(JSON.stringify(doc));
  let mergeId = 0;
  const ended = new Map<number, MergeSummary>();
  let onEnded: (() => void) | null = null;
  let lastStage = -1;
  const merging = new Merging(jobs, (e: StudioEvent) => {
    if (e.type === 'merge.changed' && e.merge.status !== 'running' && e.merge.status !== 'queued') {
      ended.set(e.merge.id, e.merge);
      onEnded?.();
    }
    if (e.type !== 'merge.progress' || (mergeId !== 0 && e.progress.mergeId !== mergeId)) return;
    // Lines come after the 'started' line.
    if (early !== null) early.push(e.progress);
    else onProgress(e.progress);
  });
  let early: MergeProgressInfo[] | null = [];

  const onProgress = (p: MergeProgressInfo): void => {
    if (p.stage !== lastStage && p.kind !== null && p.phase !== 'starting') {
      lastStage = p.stage;
      if (json) line({ type: 'stage', mergeId: p.mergeId, stage: p.stage, stages: p.stages, kind: p.kind, title: p.title, kimgTotal: p.kimgTotal, step: p.step, backend: p.backend });
      else io.out(`  stage ${p.stage + 1} of ${p.stages}: ${p.title}${p.step > 0 ? ` (from step ${p.step})` : ''}…`);
    }
    if (p.saved) {
      if (json) line({ type: 'checkpoint', mergeId: p.mergeId, stage: p.saved.stage, step: p.saved.step, reason: p.saved.reason });
      else if (p.saved.reason !== 'start') io.out(`  checkpoint: stage ${p.saved.stage + 1}, step ${p.saved.step}`);
    }
    if (p.evaluation) {
      const e = p.evaluation;
      if (json) line({ type: 'evaluation', mergeId: p.mergeId, stage: p.stage, step: p.step, classes: e.classes.map((c) => ({ className: c.className, kid: c.kid, std: c.std })), average: e.average, images: e.images, extractor: e.extractor.id });
      else io.out(`  quality per class (KID, lower is closer to its source): ${e.classes.map((c) => `${c.className} ${c.kid.toFixed(4)}`).join(' · ')}`);
    }
    if (p.previews) {
      if (json) line({ type: 'tick', mergeId: p.mergeId, stage: p.stage, kind: p.kind, step: p.step, kimg: round(p.kimg), kimgTotal: p.kimgTotal, fraction: round(p.fraction), stats: p.stats });
      else io.out(`    ${PHASE_WORDS[p.phase]} · kimg ${round(p.kimg)} / ${p.kimgTotal} · step ${p.step} · ${Math.round(p.fraction * 100)}% of the merge`);
    }
  };

  let onSigint: (() => void) | null = null;
  try {
    const started = resumeId !== undefined ? merging.resume(resumeId, backend) : await merging.start(request(values, project, backend));
    mergeId = started.id;
    if (json) line({ type: 'started', mergeId, name: started.name, classes: started.classes, sources: started.sources, stages: started.stages.map((s) => ({ kind: s.kind, title: s.title, kimg: s.kimg })), notes: started.notes, resumed: resumeId !== undefined, stage: started.stage, step: started.step });
    else {
      io.out(`${resumeId !== undefined ? 'Resuming' : 'Merging'} ${started.classes.map((c) => `"${c}"`).join(', ')} into "${started.name}" (merge ${mergeId}). Ctrl+C pauses and saves a checkpoint.`);
      for (const n of started.notes) io.out(`  Note: ${n}`);
    }
    const queued = early ?? [];
    early = null;
    for (const p of queued) onProgress(p);

    let interrupted = false;
    onSigint = () => {
      if (interrupted) {
        io.err('atelier merge: leaving; the worker finishes saving its checkpoint by itself.');
        process.exit(130);
      }
      interrupted = true;
      if (!json) io.out('Pausing: saving a checkpoint… (Ctrl+C again to leave without waiting)');
      try {
        merging.pause(mergeId);
      } catch {
        // Already finishing.
      }
    };
    process.on('SIGINT', onSigint);

    const end = await new Promise<MergeSummary>((r) => {
      const check = (): void => void (ended.has(mergeId) && r(ended.get(mergeId)!));
      onEnded = check;
      check();
    });
    const model = end.modelId !== null ? new ModelStore(project.db).get(end.modelId) : undefined;
    const resume = atelierCommand('merge', projectArg, '--resume', String(mergeId));
    const next = model ? nextForMerge(projectArg, model.name, end.classes[0] ?? '0', mergeId) : resume;
    const stages = end.stages.map((s) => ({ kind: s.kind, title: s.title, ...(s.done ?? {}) }));
    const resumable = end.status !== 'done';
    if (json) line({ type: 'end', mergeId, status: end.status, error: end.error, stage: end.stage, step: end.step, modelId: end.modelId, model: model?.name ?? null, classes: end.classes, stages, ...(resumable ? { resume } : {}), next });
    else if (end.status === 'done') {
      io.out(`Done: "${model?.name ?? end.name}" makes ${end.classes.map((c) => `"${c}"`).join(', ')}; it is in Models and the Gallery.`);
      for (const s of end.stages) if (s.done) io.out(`  ${s.title}: ${s.done.steps} steps, ${s.done.seconds} s`);
      io.out(`Next: ${next}`);
    } else if (end.status === 'failed') io.err(`atelier merge: ${end.error ?? 'the merge failed'} To continue: ${resume}`);
    else io.out(`${end.status === 'paused' ? 'Paused' : 'Stopped'} at stage ${end.stage + 1} of ${end.stages.length}, step ${end.step}. Resume with: ${resume}`);
    return end.status === 'failed' || (end.status === 'paused' && end.error !== null) ? 1 : 0;
  } finally {
    if (onSigint) process.off('SIGINT', onSigint);
    await jobs.shutdown();
    project.close();
  }
}

/** The request from the flags, checked as a request from the studio is. */
function request(values: Record<string, string | boolean | undefined>, project: Project, backend: BackendChoiceName | undefined): MergeRequest {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const texts = str('sources')!.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  const models = new ModelStore(project.db);
  const sources: MergeSourceRequest[] = texts.map((t) => {
    const spec = parseSourceSpec(t);
    if (spec.kind === 'model') {
      const m = models.find(String(spec.model));
      if (!m) {
        const names = models.list().map((x) => `"${x.name}"`);
        throw new UserError('not-found', `There is no model "${spec.model}" in ${project.path}. ${names.length > 0 ? `Its models: ${names.join(', ')}.` : 'It has no models yet.'}`, '--sources');
      }
      return { kind: 'model', modelId: m.id };
    }
    if (spec.kind === 'run') return { kind: 'run', runId: spec.runId, ...(spec.checkpointId !== undefined ? { checkpointId: spec.checkpointId } : {}) };
    return { kind: spec.kind, path: resolve(spec.path) };
  });
  const list = (k: string): string[] | undefined => str(k)?.split(',').map((x) => x.trim());
  const num = (k: string): number | undefined => (str(k) === undefined ? undefined : numberOption(`--${k}`, str(k)!));
  const classes = list('classes');
  const raw = {
    ...(str('name') !== undefined ? { name: str('name') } : {}),
    sources,
    ...(classes ? { classes } : {}),
    ...(list('weights') ? { weights: list('weights')!.map((w) => numberOption('--weights', w)) } : {}),
    ...(str('root') !== undefined ? { root: rootIndex(str('root')!, texts, classes, models) } : {}),
    kimgRoot: num('kimg-root') ?? missing('--kimg-root'),
    kimgMerge: num('kimg-merge') ?? missing('--kimg-merge'),
    ...(num('resolution') !== undefined ? { resolution: num('resolution') } : {}),
    ...(num('seed') !== undefined ? { seed: num('seed') } : {}),
    ...(num('batch') !== undefined ? { batch: num('batch') } : {}),
    ...(backend ? { backend } : {}),
    ...(num('tick-kimg') !== undefined ? { tickKimg: num('tick-kimg') } : {}),
    ...(num('snapshot-ticks') !== undefined ? { snapshotTicks: num('snapshot-ticks') } : {}),
    ...(num('eval-images') !== undefined ? { evalImages: num('eval-images') } : {}),
    ...(num('eval-every') !== undefined ? { evalEvery: num('eval-every') } : {}),
  };
  // The same checks as a request from the studio.
  const parsed = mergeRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError('invalid-request', `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}

/** --root: a position (1-based), a source as written, a model's name, or a class name. */
function rootIndex(text: string, sources: readonly string[], classes: readonly string[] | undefined, models: ModelStore): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > sources.length) throw new UserError('invalid-request', `--root ${text}: there are ${sources.length} sources; give 1 to ${sources.length}.`, '--root');
    return n - 1;
  }
  const byModel = models.find(text);
  const i = sources.findIndex((s, j) => s === text || s === `model:${text}` || (byModel !== undefined && s === `model:${byModel.id}`) || (byModel !== undefined && models.find(s.replace(/^model:/, ''))?.id === byModel.id) || classes?.[j] === text);
  if (i < 0) throw new UserError('invalid-request', `--root "${text}" is none of the sources (${sources.join(', ')}): give its position (1, 2, …) or a model name.`, '--root');
  return i;
}

const missing = (flag: string): never => {
  throw new UserError('invalid-request', `${flag} is needed: how long to train, in thousands of images (e.g. ${flag} 2).`, flag);
};

function numberOption(name: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UserError('invalid-request', `${name} must be a number, not "${raw}".`, name);
  return n;
}

function whole(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UserError('invalid-request', `${name} must be a whole number ≥ ${min}, not "${raw}".`, name);
  return n;
}

function backendOption(raw: string): BackendChoiceName {
  if (!(BACKEND_CHOICES as readonly string[]).includes(raw)) throw new UserError('invalid-request', `--backend must be one of ${BACKEND_CHOICES.join(', ')}, not "${raw}".`, '--backend');
  return raw as BackendChoiceName;
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;
