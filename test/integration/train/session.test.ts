/**
 * A training session in-process on a real project: emoji imported into two labelled folders make
 * a conditional run; an automatic batch shrinks to fit a memory budget (γ and the EMA follow);
 * a stop saves a checkpoint; transfer starts from another run's weights with D's first block frozen.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TrainProgress } from '../../../core/api/contract.js';
import { startImport } from '../../../core/data/import-job.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { selectBackend } from '../../../core/backend/select.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { decodeTensors } from '../../../core/nets/checkpoint-format.js';
import { autoR1Gamma, type DatasetFacts, resolveTrainConfig, type TrainConfig } from '../../../core/train/config.js';
import { fitBatch, predictedPeak } from '../../../core/train/memory.js';
import type { CheckpointState } from '../../../core/train/checkpoint-state.js';
import { trainSession } from '../../../core/session/train-session.js';
import { EMOJI_DIR, makeNets } from '../../unit/train/helpers.js';

const FACTS: DatasetFacts = { images: 32, resolution: 16, channels: 3, numClasses: 2 };
const tiny = { channelBase: 256, channelMax: 16, tickKimg: 0.008, snapshotTicks: 1 };

describe('training session', () => {
  let dir: string;
  let project: Project;
  let runs: RunStore;

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'atelier-session-'));
    const files = readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, 32);
    for (const [i, f] of files.entries()) {
      const folder = join(dir, 'src', i % 2 === 0 ? 'cats' : 'dogs');
      mkdirSync(folder, { recursive: true });
      copyFileSync(join(EMOJI_DIR, f), join(folder, f));
    }
    project = Project.create(join(dir, 's.atelier'), 's', { appVersion: 'test' });
    const report = await (await startImport(new JobManager(project), { sources: [join(dir, 'src')], settings: { resolution: 16 }, options: { labels: 'folders' } })).done;
    assert.equal(report.imported, 32);
    runs = new RunStore(project.db);
  });

  after(() => {
    project.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const session = (runId: number, extra: { memoryBudget?: number; requested?: () => 'pause' | 'stop' | null; progress?: (p: TrainProgress) => void } = {}) => {
    const logs: string[] = [];
    const done = trainSession({
      db: project.db,
      runId,
      progress: extra.progress ?? (() => {}),
      requested: extra.requested ?? (() => null),
      progressEveryMs: 0,
      log: (l) => logs.push(l),
      ...(extra.memoryBudget !== undefined ? { memoryBudget: extra.memoryBudget } : {}),
    });
    return { done, logs };
  };
  const create = (config: TrainConfig) => runs.createRun(`run ${runs.listRuns().length + 1}`, config.preset, config, config.kimg).id;
  const final = (runId: number) => {
    const cp = runs.latestCheckpoint(runId)!;
    return { cp, state: cp.state as CheckpointState, tensors: decodeTensors(cp.weights) };
  };

  it('labels make a conditional run; an automatic batch shrinks to the memory budget', async () => {
    const config = resolveTrainConfig({ preset: 'baseline', kimg: 0.016, seed: 1, advanced: tiny }, FACTS, 'gpu'); // GPU sizes: batch 32 by default
    assert.equal(config.net.numClasses, 2);
    assert.equal(config.batch, 32);
    // Room for about 12 images a step: the session should settle on 8.
    const nets = makeNets(config);
    const line = await fitBatch(nets, 32, 2 ** 40, config.loss);
    Object.values(nets).forEach((n) => n.dispose());
    const runId = create(config);
    const phases: string[] = [];
    const { done, logs } = session(runId, { memoryBudget: predictedPeak(line, 12), progress: (p) => phases.push(p.phase) });
    assert.deepEqual(await done, { outcome: 'completed', result: { runId, step: 2, kimg: 0.016 } });
    assert.ok(logs.some((l) => /batch 32 needs about .* GB; the memory budget given: using batch 8/.test(l)), logs.join('\n'));
    const stored = runs.getRun(runId)!.config as TrainConfig;
    assert.equal(stored.batch, 8);
    assert.equal(stored.r1Gamma, autoR1Gamma(16, 8));
    assert.equal(stored.emaKimg, 2.5);
    const { state, cp } = final(runId);
    assert.equal(state.config.batch, 8);
    assert.deepEqual(state.classNames, ['cats', 'dogs']);
    assert.equal(cp.step, 2);
    assert.equal(runs.listPreviews(runId).length, 2);
    assert.deepEqual([...new Set(phases)], ['starting', 'loading', 'training', 'saving']);
    assert.equal(runs.getRun(runId)!.backend, 'wasm');
  });

  it('stop saves a checkpoint; transfer takes its weights and keeps D’s first block frozen', async () => {
    // A source run, stopped after its first step.
    const source = create(resolveTrainConfig({ preset: 'baseline', kimg: 1, batch: 8, seed: 1, advanced: tiny }, FACTS));
    let step = 0;
    const stopped = session(source, { progress: (p) => (step = p.step), requested: () => (step >= 1 ? 'stop' : null) });
    assert.equal((await stopped.done).outcome, 'stopped');
    const src = final(source);
    assert.equal(src.cp.step, 1);
    assert.equal(runs.getRun(source)!.kimgDone, 0.008, 'the stop moved the run’s progress');

    // Another seed, transferring from it with Freeze-D 1, for one step.
    const config = resolveTrainConfig({ preset: 'baseline', kimg: 0.008, batch: 8, seed: 2, advanced: { ...tiny, transferFrom: { runId: source }, freezeD: 1 } }, FACTS);
    const target = create(config);
    const { logs, done } = session(target);
    assert.equal((await done).outcome, 'completed');
    assert.ok(logs.some((l) => l.includes(`starting from run ${source}'s weights`)));
    const dst = final(target);
    let frozen = 0;
    for (const [name, v] of dst.tensors) {
      if (!name.startsWith('D.')) continue;
      const same = Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).equals(Buffer.from(src.tensors.get(name)!.data.buffer, src.tensors.get(name)!.data.byteOffset, src.tensors.get(name)!.data.byteLength));
      if (name.startsWith('D.b16.')) {
        assert.ok(same, `${name} is frozen at the source's value`);
        frozen++;
      } else if (name.endsWith('.weight')) {
        assert.ok(!same, `${name} trained`);
      }
    }
    assert.ok(frozen >= 5);
    assert.ok(![...dst.tensors.keys()].some((n) => n.startsWith('optD/m/D.b16.')), 'no moments for frozen weights');

    // A source without checkpoints is refused with a reason.
    const empty = create(resolveTrainConfig({ preset: 'baseline', kimg: 1, batch: 8, advanced: tiny }, FACTS));
    const bad = create(resolveTrainConfig({ preset: 'baseline', kimg: 1, batch: 8, advanced: { ...tiny, transferFrom: { runId: empty } } }, FACTS));
    await assert.rejects(session(bad).done, new RegExp(`Run ${empty} has no checkpoint to start from`));
  });
});
