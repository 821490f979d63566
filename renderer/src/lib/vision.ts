/**
 * The vision-aided judges in words and chart lines, for the Train view's Judges panel: which
 * pretrained network a selection added and why (the linear probe's accuracy), and the statistics
 * each judge reports per tick (core/vision/judge.ts, core/train/loop.ts): its critic-side loss
 * `Loss/D/vision.<id>`, its pull on the generator `Loss/G/vision.<id>` (after its warm-up), its
 * own ADA's strength `Vision/<id>/p` and overfitting signal `Vision/<id>/r_t`.
 */
import type { BackboneInfo, VisionConfig, VisionSelection } from '../../../core/api/contract.js';
import type { ChartLine } from './charts.js';
import { formatKimg } from './format.js';

/** The statistics' names of one judge. */
export function judgeSeries(id: string): { lossD: string; lossG: string; p: string; rt: string } {
  return { lossD: `Loss/D/vision.${id}`, lossG: `Loss/G/vision.${id}`, p: `Vision/${id}/p`, rt: `Vision/${id}/r_t` };
}

/** A judge's chart: its losses on the left, its augmentation on the right (0–1). */
export function judgeLines(id: string): ChartLine[] {
  const s = judgeSeries(id);
  return [
    { name: s.lossD, label: 'its loss', colour: '--chart-2' },
    { name: s.lossG, label: 'its pull on the generator', colour: '--chart-1' },
    { name: s.p, label: 'how often altered (p)', colour: '--chart-4', scale: 'y2', dashed: true },
    { name: s.rt, label: 'overfitting signal (r_t)', colour: '--chart-3', scale: 'y2', dashed: true },
  ];
}

/** A backbone's name for people: its title from the studio's list, else its id. */
export function backboneTitle(id: string, backbones: readonly BackboneInfo[]): string {
  return backbones.find((b) => b.id === id)?.title ?? id;
}

/** Seconds per step, readable: "0.54 s", "6.9 s". */
export function formatSeconds(seconds: number): string {
  return `${seconds < 1 ? seconds.toFixed(2) : seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
}

/** "96%". */
export function percent(accuracy: number): string {
  return `${Math.round(accuracy * 100)}%`;
}

/** One selection in a sentence: "Added MobileNetV2 … at 0.26 kimg: it told your images from the samples 96% of the time." */
export function selectionWords(s: VisionSelection, backbones: readonly BackboneInfo[]): string {
  if (s.picked === null) return `At ${formatKimg(s.kimg)} kimg no network was left to add.`;
  const accuracy = s.accuracies[s.picked];
  const why = accuracy === undefined ? '' : `: it told your images from the samples ${percent(accuracy)} of the time`;
  return `Added ${backboneTitle(s.picked, backbones)} at ${formatKimg(s.kimg)} kimg${why}.`;
}

/** The runners-up of a selection, best first: "InceptionV3 (nsfwjs) 88%, …"; '' when it had no other. */
export function otherScores(s: VisionSelection, backbones: readonly BackboneInfo[]): string {
  return Object.entries(s.accuracies)
    .filter(([id, a]) => id !== s.picked && a !== undefined)
    .sort((a, b) => (b[1] as number) - (a[1] as number))
    .map(([id, a]) => `${backboneTitle(id, backbones)} ${percent(a as number)}`)
    .join(', ');
}

/** The run's schedule in plain words. */
export function scheduleSentence(config: VisionConfig): string {
  const how = config.k === 1 ? 'one of them' : `up to ${config.k} of them, one at a time`;
  const at = config.selectAt.slice(0, config.k).map(formatKimg).join(', ');
  const steer = config.warmupKimg > 0 ? `${formatKimg(config.warmupKimg)} kimg after it joins (until then only its own head learns)` : 'as soon as it joins';
  return `Besides the studio’s own critic, networks already trained on millions of photos judge the samples. This run adds ${how}, at ${at} kimg; each judge steers the generator ${steer}. They see the images at ${config.inputSize} × ${config.inputSize}.`;
}

/** What is still to come in a run's schedule, in words; null when every judge was picked. */
export function nextSelectionWords(config: VisionConfig, made: number): string | null {
  if (made >= config.k || made >= config.selectAt.length) return null;
  const at = config.selectAt[made]!;
  return made === 0
    ? `No judge yet: the studio picks the first at ${formatKimg(at)} kimg, the network that best tells your images from the samples.`
    : `The next judge is picked at ${formatKimg(at)} kimg.`;
}

/**
 * The rough per-step cost of a judge, with where the number comes from: the only measurement so far
 * is bench/results/vision-ablation-16px-100img-1kimg.json (core/vision/cost.ts: one forward and
 * backward pass to the image, batch 16, judges at 32², wasm on 2 shared cores under load ~15).
 */
export const JUDGE_COST_ESTIMATE = {
  words: 'On a processor (wasm), each judge added about 5.5–7 s to a step (batch 16, judges’ images at 32², 2 busy cores); a graphics card is much faster. Larger judge images cost more.',
  source: 'bench/results/vision-ablation-16px-100img-1kimg.json (core/vision/cost.ts)',
} as const;
