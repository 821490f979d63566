/**
 * Sweep of webgpu submit batching (TF.js's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE) and Dawn's toggles
 * (skip_validation, disable_robustness, lazy clears off), each as a bench/step run on webgpu with
 * `--count --pipeline` (the first configuration is the baseline of `vsDefaults`): ms per step (plain and read one step late) and the submits and passes per
 * step, which the flags change on any adapter. Configurations run in rounds (A B C … A B C …) so
 * drift of a shared machine spreads over all of them. Prints one JSON document on stdout.
 *
 *   node --import tsx bench/webgpu-sweep.ts [--sizes 16] [--channel-max 32] [--batch 8] [--steps 6] [--rounds 2]
 *
 * On a software adapter (llvmpipe) the GPU's share is CPU time too, so a small net (the default)
 * keeps the step overhead-bound, as a fast GPU's is.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { workerExecArgv } from '../core/jobs/fork-worker.js';
import { median } from './lib/stats.js';

interface Config {
  name: string;
  args: string[];
}

const CONFIGS: Config[] = [
  { name: "submit every 15 (TF.js's default)", args: ['--flags', 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=15'] },
  { name: "the studio's default (submit every 60: core/backend/webgpu.ts SUBMIT_BATCH)", args: [] },
  { name: 'submit every dispatch', args: ['--flags', 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=1'] },
  { name: 'submit every 5', args: ['--flags', 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=5'] },
  { name: 'submit every 240', args: ['--flags', 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=240'] },
  { name: 'Dawn skip_validation', args: ['--dawn-enable', 'skip_validation'] },
  { name: 'Dawn disable_robustness', args: ['--dawn-enable', 'disable_robustness'] },
  { name: 'Dawn lazy clear off', args: ['--dawn-disable', 'lazy_clear_resource_on_first_use'] },
  { name: 'all three Dawn toggles', args: ['--dawn-enable', 'skip_validation,disable_robustness', '--dawn-disable', 'lazy_clear_resource_on_first_use'] },
];

interface Run {
  ok: boolean;
  msPerStep?: number;
  pipelinedMsPerStep?: number;
  submits?: number;
  passes?: number;
  dispatches?: number;
  error?: string;
}

const argv = process.argv.slice(2);
const get = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? dflt) : dflt;
};
const sizes = get('sizes', '16');
const channelMax = get('channel-max', '32');
const batch = get('batch', '8');
const steps = get('steps', '6');
const rounds = Number(get('rounds', '2'));
const step = fileURLToPath(new URL('./step.ts', import.meta.url));

function runOnce(cfg: Config): Run {
  const args = [...workerExecArgv(process.execArgv), step, '--backends', 'webgpu', '--sizes', sizes, '--channel-max', channelMax, '--batch', batch, '--steps', steps, '--no-torch', '--count', '--pipeline', ...cfg.args];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20 * 60_000 });
  try {
    const doc = JSON.parse(r.stdout) as { backends: Array<{ ok: boolean; reason: string; error?: string; sizes?: Array<{ msPerStep: { median: number }; pipelinedMsPerStep?: number; counts?: { submits: number; passes: number; dispatches: number } }> }> };
    const b = doc.backends[0];
    const s = b?.sizes?.[0];
    if (b === undefined || !b.ok || s === undefined) return { ok: false, error: b?.error ?? b?.reason ?? 'no result' };
    const run: Run = { ok: true, msPerStep: s.msPerStep.median };
    if (s.pipelinedMsPerStep !== undefined) run.pipelinedMsPerStep = s.pipelinedMsPerStep;
    if (s.counts !== undefined) Object.assign(run, { submits: s.counts.submits, passes: s.counts.passes, dispatches: s.counts.dispatches });
    return run;
  } catch {
    return { ok: false, error: `bench/step exited ${r.signal ?? r.status} without a result` };
  }
}

const results = new Map<string, Run[]>(CONFIGS.map((c) => [c.name, []]));
for (let round = 0; round < rounds; round++) {
  for (const cfg of CONFIGS) {
    const run = runOnce(cfg);
    results.get(cfg.name)!.push(run);
    process.stderr.write(`round ${round + 1} ${cfg.name}: ${JSON.stringify(run)}\n`);
  }
}

const base = median((results.get(CONFIGS[0]!.name) ?? []).filter((r) => r.ok).map((r) => r.msPerStep!));
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'webgpu-sweep',
      date: new Date().toISOString(),
      net: { sizes, channelMax, batch, steps, rounds },
      configs: CONFIGS.map((c) => {
        const runs = results.get(c.name)!;
        const ok = runs.filter((r) => r.ok);
        const ms = ok.length > 0 ? median(ok.map((r) => r.msPerStep!)) : null;
        return {
          name: c.name,
          args: c.args,
          msPerStep: ms,
          pipelinedMsPerStep: ok.length > 0 ? median(ok.map((r) => r.pipelinedMsPerStep ?? NaN)) : null,
          vsDefaults: ms !== null && base > 0 ? Number((ms / base).toFixed(3)) : null,
          submits: ok[0]?.submits ?? null,
          passes: ok[0]?.passes ?? null,
          dispatches: ok[0]?.dispatches ?? null,
          runs,
        };
      }),
    },
    null,
    1,
  )}\n`,
);
