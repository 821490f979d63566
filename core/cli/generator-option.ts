/**
 * Which generator a command samples or exports: `--model M` (a model's name or id) or
 * `--run RUN[:CHECKPOINT]` (a run's checkpoint: the one given, else its best, else its newest).
 */
import type { GallerySource } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { ModelStore } from '../store/models.js';
import type { Project } from '../store/project.js';
import { RunStore } from '../store/runs.js';

export function generatorSource(project: Project, o: { model?: string; run?: string }): { source: GallerySource; label: string } {
  if ((o.model === undefined) === (o.run === undefined)) {
    throw new UserError('invalid-request', 'Say which generator: --model NAME (see the Models view) or --run RUN[:CHECKPOINT] (a run\'s checkpoint).', '--model');
  }
  if (o.model !== undefined) {
    const models = new ModelStore(project.db);
    const m = models.find(o.model);
    if (!m) {
      const names = models.list().map((x) => `"${x.name}"`);
      throw new UserError('not-found', `There is no model "${o.model}" in ${project.path}. ${names.length > 0 ? `Models: ${names.join(', ')}.` : 'It has no models yet: promote a checkpoint in the Train view, or use --run RUN.'}`, '--model');
    }
    return { source: { kind: 'model', modelId: m.id }, label: m.name };
  }
  const match = /^(\d+)(?::(\d+))?$/.exec(o.run!.trim());
  if (!match) throw new UserError('invalid-request', `--run takes a run number, optionally with a checkpoint id (RUN or RUN:CHECKPOINT), not "${o.run}".`, '--run');
  const runs = new RunStore(project.db);
  const runId = Number(match[1]);
  const run = runs.getRun(runId);
  if (!run) throw new UserError('not-found', `There is no run ${runId} in ${project.path}.`, '--run');
  const cps = runs.listCheckpoints(runId);
  if (cps.length === 0) throw new UserError('not-found', `Run ${runId} ("${run.name}") has no checkpoint yet: train it for a while first.`, '--run');
  let cp = cps.find((c) => c.isBest) ?? cps[cps.length - 1]!;
  if (match[2] !== undefined) {
    const wanted = cps.find((c) => c.id === Number(match[2]));
    if (!wanted) throw new UserError('not-found', `Run ${runId} has no checkpoint ${match[2]}; it has ${cps.map((c) => `${c.id} (${c.kimg} kimg)`).join(', ')}.`, '--run');
    cp = wanted;
  }
  return { source: { kind: 'checkpoint', checkpointId: cp.id }, label: `${run.name} at ${cp.kimg} kimg` };
}
