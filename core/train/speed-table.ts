/**
 * How fast this machine trains, by backend and resolution, for the new-run form's expectations
 * ("samples usually become recognisable after about N minutes; 25 kimg take about M minutes"):
 * what runs with the studio's default capacity measured here (kept per user, beside the recent
 * list, updated as they train), else typical speeds from the benches (bench/results: wasm on a
 * 2-core EPYC; the studio's CPU sizes).
 *
 * And when samples usually become recognisable, by resolution, for the studio's default sizes
 * (`RECOGNISABLE_KIMG`).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One measured speed: images shown to D per second, smoothed over the runs that reported it. */
export interface SpeedEntry {
  imgPerSec: number;
  /** Reports folded in. */
  samples: number;
  updatedAt: string;
}

/** By `speedKey(backend, resolution)`. */
export type SpeedTable = Record<string, SpeedEntry>;

export const speedKey = (backend: string, resolution: number): string => `${backend}@${resolution}`;

/**
 * Typical images/s of the studio's default sizes when nothing was measured here. wasm on 2 cores
 * (2 threads), measured: bench/ada-step.ts (the loop's step at the CPU sizes, ADA at p = 0.3;
 * bench/results/ada-step-16-32-64-after-kernels.json) gave 198 images/s at 16², 107 at 32², 33 at
 * 64²; the studio's default ADA run at 32² showed 68–81 per tick one hour and 86–120 (median 106)
 * another on the same host (bench/results/studio-run-32-ada-before-after.json) — so a little under
 * the loop's speed: 16² ≈ 170, 32² ≈ 94, 64² ≈ 28. The other backends scale from wasm by rough
 * ratios (plain JS ~30× slower, the native CPU build ~3× faster, GPUs ~5–10×); 128² and up: guesses.
 */
const BENCH_16: Record<string, number> = { wasm: 170, cpu: 5, tensorflow: 500, webgpu: 1000, 'tensorflow-gpu': 1700 };
const RESOLUTION_COST: Record<number, number> = { 16: 1, 32: 1.8, 64: 6, 128: 30, 256: 120, 512: 500, 1024: 2000 };

/**
 * kimg after which samples of a default-size CPU run usually read as the dataset's kind of picture
 * (quality ≥ QUALITY_RECOGNISABLE on the scale), by resolution. 16²: measured —
 * bench/results/first-hour-16px-1911img-30kimg.json (1,911 Twemoji, baseline, CPU sizes, wasm):
 * quality 13–22 (coloured blobs) up to 18 kimg, 39 at 21–24, 64 at 27 (emoji shapes), 58 at 30.
 * 32² and 64² (the same widths, one and two more blocks): estimates from it, a little later;
 * larger ones: guesses. GPU sizes train far longer by default.
 */
export const RECOGNISABLE_KIMG: Record<number, number> = { 16: 25, 32: 30, 64: 35, 128: 40, 256: 60, 512: 80, 1024: 100 };

export function recognisableKimg(resolution: number): number {
  return RECOGNISABLE_KIMG[resolution] ?? RECOGNISABLE_KIMG[256]!;
}

/** The speed to expect: measured here when a run reported it, else the bench's typical one; null for an unknown backend. */
export function expectedSpeed(table: SpeedTable, backend: string, resolution: number): { imgPerSec: number; measured: boolean } | null {
  const entry = table[speedKey(backend, resolution)];
  if (entry && entry.imgPerSec > 0) return { imgPerSec: entry.imgPerSec, measured: true };
  const base = BENCH_16[backend];
  if (base === undefined) return null;
  return { imgPerSec: base / (RESOLUTION_COST[resolution] ?? RESOLUTION_COST[256]!), measured: false };
}

/** The table with one more report folded in (an average that follows recent runs: the newest counts a quarter once several are in). */
export function recordSpeed(table: SpeedTable, backend: string, resolution: number, imgPerSec: number, now = new Date()): SpeedTable {
  if (!Number.isFinite(imgPerSec) || imgPerSec <= 0) return table;
  const key = speedKey(backend, resolution);
  const old = table[key];
  const samples = (old?.samples ?? 0) + 1;
  const weight = Math.max(0.25, 1 / samples);
  const value = old ? old.imgPerSec + weight * (imgPerSec - old.imgPerSec) : imgPerSec;
  return { ...table, [key]: { imgPerSec: value, samples, updatedAt: now.toISOString() } };
}

/** The per-user file. */
export const speedFile = (appHome: string): string => join(appHome, 'speeds.json');

export function readSpeedTable(path: string): SpeedTable {
  try {
    const t = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return t !== null && typeof t === 'object' && !Array.isArray(t) ? (t as SpeedTable) : {};
  } catch {
    return {}; // none yet, or unreadable: the bench's speeds
  }
}

/** Written atomically (temp file + rename). */
export function writeSpeedTable(path: string, table: SpeedTable): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(table, null, 2));
  renameSync(tmp, path);
}
