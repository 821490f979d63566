// Worker entry: what each judge costs per training step on the backend a run would use
// (core/vision/cost.ts), for the new-run form before Start. Loads the backend and each backbone
// from the installed packages, times one forward and backward pass to the image, reports, exits.
// Run by cost-probe.ts so the service process never loads TF.js itself.
import { AUTO_BACKBONES, type BackboneId } from '../api/vision.js';
import type { BackendChoiceName, VisionCostReport } from '../api/contract.js';
import { selectBackend } from '../backend/select.js';
import { workerMain } from '../jobs/worker-main.js';
import { resolveVisionConfig } from '../presets/vision.js';
import { judgeSecondsPerStep } from './cost.js';
import { VisionJudge } from './judge.js';
import { loadBackbone } from './zoo.js';

interface CostParams {
  backend: BackendChoiceName;
  batch: number;
  resolution: number;
  channels: number;
  inputSize: number;
  backbones: BackboneId[];
}

const channel = workerMain<never, VisionCostReport | { error: string }>('judge cost', { sigint: 'default' });
try {
  const p = JSON.parse(process.argv[2] ?? '{}') as CostParams;
  const choice = await selectBackend({ prefer: p.backend });
  const config = resolveVisionConfig({ visionBackbones: (p.backbones.length > 0 ? p.backbones : AUTO_BACKBONES).join(','), visionK: 1, visionInput: p.inputSize }, 100, 'cpu');
  const seconds: Partial<Record<BackboneId, number>> = {};
  for (const id of config.candidates) {
    const backbone = await loadBackbone(id);
    const judge = new VisionJudge(backbone, config, { lr: 0.002, betas: [0, 0.99], epsilon: 1e-8, seed: 0 });
    try {
      seconds[id] = await judgeSecondsPerStep(judge, p.batch, p.resolution, p.channels);
    } finally {
      judge.dispose();
      backbone.dispose();
    }
  }
  channel.send({ backend: choice.name, batch: p.batch, inputSize: config.inputSize, seconds }, () => process.exit(0));
} catch (err) {
  channel.send({ error: (err as Error).message }, () => process.exit(0));
}
