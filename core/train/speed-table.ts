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
  /** The widths it was measured at (`channelBase/channelMax`); absent in tables written before widths were noted. */
  capacity?: string;
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
 * the loop's speed: 16² ≈ 170, 64² ≈ 28. 32² at today's CPU widths (1024/64, wider than the 512/32
 * those measured): 47 images/s per tick in bench/first-hour.ts (first-hour-32px-2000img-40kimg-
 * 1024-64.json), so ≈ 45. The other backends scale from wasm by rough
 * ratios (plain JS ~30× slower, the native CPU build ~3× faster, GPUs ~5–10×); 128² and up: guesses.
 */
const BENCH_16: Record<string, number> = { wasm: 170, cpu: 5, tensorflow: 500, webgpu: 1000, 'tensorflow-gpu': 1700 };
const RESOLUTION_COST: Record<number, number> = { 16: 1, 32: 3.8, 64: 6, 128: 30, 256: 120, 512: 500, 1024: 2000 };

/**
 * kimg after which samples of a default-size CPU run usually read as the dataset's kind of picture
 * (quality ≥ QUALITY_RECOGNISABLE on the scale), where a run measured it. 16²:
 * bench/results/first-hour-16px-1911img-30kimg.json (1,911 Twemoji, baseline, CPU sizes, wasm):
 * quality 13–22 (coloured blobs) up to 18 kimg, 39 at 21–24, 64 at 27 (emoji shapes), 58 at 30.
 * Elsewhere nothing measured it (see STILL_BLURRY): no promise.
 */
export const RECOGNISABLE_KIMG: Record<number, number> = { 16: 25 };

/**
 * Where a measured CPU run at the default sizes ended still blurry, by resolution (kimg). 32²
 * (2,000 Twemoji, baseline, wasm, 2 cores, bench/first-hour.ts): at today's widths 1024/64, quality
 * 17 of 100 (KID 0.105) at 40 kimg after 15 min, blobs with some structure
 * (first-hour-32px-2000img-40kimg-1024-64.json); at the earlier 512/32, quality 4–12 all the way to
 * 120 kimg (first-hour-32px-2000img-120kimg.json).
 */
export const STILL_BLURRY: Record<number, number> = { 32: 40 };

/** kimg after which samples usually become recognisable at this resolution; null where no run measured it. */
export function recognisableKimg(resolution: number): number | null {
  return RECOGNISABLE_KIMG[resolution] ?? null;
}

/**
 * A measured run still blurry at its end, at this resolution or (for the CPU resolutions up to 64²,
 * where a larger picture is harder) the largest smaller one: a lower bound on how long
 * recognisable samples take. Null where none applies.
 */
export function stillBlurry(resolution: number): { resolution: number; kimg: number } | null {
  if (resolution > 64) return null;
  const at = Object.keys(STILL_BLURRY)
    .map(Number)
    .filter((r) => r <= resolution)
    .sort((a, b) => b - a)[0];
  return at === undefined ? null : { resolution: at, kimg: STILL_BLURRY[at]! };
}

/**
 * The widths a table entry written before entries were tagged was measured at, where they differ
 * from today's defaults: the CPU backends at 32² had 512/32 until 1024/64 (core/train/config.ts).
 * Other untagged entries are at today's defaults.
 */
const UNTAGGED: Record<string, string> = { 'wasm@32': '512/32', 'cpu@32': '512/32', 'tensorflow@32': '512/32' };

function entryCapacity(entry: SpeedEntry, key: string, fallback: string | undefined): string | undefined {
  return entry.capacity ?? UNTAGGED[key] ?? fallback;
}

/**
 * The speed to expect: measured here when a run reported it (at `capacity`, the default widths now,
 * when given: a speed measured at other widths is not what a new run gets), else the bench's typical
 * one; null for an unknown backend.
 */
export function expectedSpeed(table: SpeedTable, backend: string, resolution: number, capacity?: string): { imgPerSec: number; measured: boolean } | null {
  const key = speedKey(backend, resolution);
  const entry = table[key];
  if (entry && entry.imgPerSec > 0 && (capacity === undefined || entryCapacity(entry, key, capacity) === capacity)) return { imgPerSec: entry.imgPerSec, measured: true };
  const base = BENCH_16[backend];
  if (base === undefined) return null;
  return { imgPerSec: base / (RESOLUTION_COST[resolution] ?? RESOLUTION_COST[256]!), measured: false };
}

/** The table with one more report folded in (an average that follows recent runs: the newest counts a quarter once several are in). */
export function recordSpeed(table: SpeedTable, backend: string, resolution: number, imgPerSec: number, now = new Date(), capacity?: string): SpeedTable {
  if (!Number.isFinite(imgPerSec) || imgPerSec <= 0) return table;
  const key = speedKey(backend, resolution);
  // Measured at other widths (the defaults changed): start over.
  const found = table[key];
  const old = found !== undefined && entryCapacity(found, key, capacity) === capacity ? found : undefined;
  const samples = (old?.samples ?? 0) + 1;
  const weight = Math.max(0.25, 1 / samples);
  const value = old ? old.imgPerSec + weight * (imgPerSec - old.imgPerSec) : imgPerSec;
  return { ...table, [key]: { imgPerSec: value, samples, updatedAt: now.toISOString(), ...(capacity !== undefined ? { capacity } : {}) } };
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
