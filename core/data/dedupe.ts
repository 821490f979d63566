/**
 * Duplicates. Exact: sha256 of the normalised pixels (so a PNG and its lossless re-save are the
 * same image). Near: a 64-bit DCT perceptual hash compared by Hamming distance, plus a coarse
 * colour check so a red and a blue circle of the same shape are not "the same picture".
 */
import { createHash } from 'node:crypto';

/** sha256 (hex) of the normalised pixels, their size and channel count. */
export function pixelHash(pixels: Uint8Array, size: number, channels: number): string {
  return createHash('sha256').update(`${size}x${size}x${channels}:`).update(pixels).digest('hex');
}

/** sha256 (hex) of a file's bytes: recognises a file imported before. */
export function bytesHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const GRID = 32; // hashes start from a 32 × 32 grid of mean colours
const LOW = 8; // the 8 × 8 lowest DCT frequencies make the 64 bits
const COS: Float64Array = (() => {
  const t = new Float64Array(LOW * GRID);
  for (let u = 0; u < LOW; u++) for (let x = 0; x < GRID; x++) t[u * GRID + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * GRID));
  return t;
})();

/** Mean of each cell of a GRID × GRID grid over a square [size, size, channels] image: [GRID, GRID, channels]. */
export function meanGrid(pixels: Uint8Array, size: number, channels: number): Float64Array {
  const out = new Float64Array(GRID * GRID * channels);
  const cellOf = new Int32Array(size); // column → first channel slot of its cell in a grid row
  for (let x = 0; x < size; x++) cellOf[x] = Math.floor((x * GRID) / size) * channels;
  const count = new Float64Array(GRID * GRID);
  for (let y = 0; y < size; y++) {
    const gy = Math.floor((y * GRID) / size);
    const rowOut = gy * GRID * channels;
    let p = y * size * channels;
    if (channels === 3) {
      for (let x = 0; x < size; x++, p += 3) {
        const c = rowOut + cellOf[x]!;
        out[c] = out[c]! + pixels[p]!;
        out[c + 1] = out[c + 1]! + pixels[p + 1]!;
        out[c + 2] = out[c + 2]! + pixels[p + 2]!;
      }
    } else {
      for (let x = 0; x < size; x++, p++) {
        const c = rowOut + cellOf[x]!;
        out[c] = out[c]! + pixels[p]!;
      }
    }
    for (let x = 0; x < size; x++) {
      const k = gy * GRID + cellOf[x]! / channels;
      count[k] = count[k]! + 1;
    }
  }
  if (size < GRID) {
    // Fewer pixels than cells: each cell takes the pixel it falls in.
    for (let gy = 0; gy < GRID; gy++) {
      for (let gx = 0; gx < GRID; gx++) {
        const p = (Math.floor((gy * size) / GRID) * size + Math.floor((gx * size) / GRID)) * channels;
        for (let c = 0; c < channels; c++) out[(gy * GRID + gx) * channels + c] = pixels[p + c]!;
      }
    }
    return out;
  }
  for (let k = 0; k < GRID * GRID; k++) for (let c = 0; c < channels; c++) out[k * channels + c] = out[k * channels + c]! / count[k]!;
  return out;
}

/** 64-bit perceptual hash (16 hex digits): the 8 × 8 lowest DCT frequencies of the luma grid above their median. */
export function perceptualHash(grid: Float64Array, channels: number): string {
  const N = GRID;
  const g = new Float64Array(N * N);
  for (let i = 0; i < N * N; i++) {
    const p = i * channels;
    g[i] = channels === 1 ? grid[p]! : 0.299 * grid[p]! + 0.587 * grid[p + 1]! + 0.114 * grid[p + 2]!;
  }
  const rows = new Float64Array(N * LOW); // [y, u]
  for (let y = 0; y < N; y++) {
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let x = 0; x < N; x++) s += g[y * N + x]! * COS[u * N + x]!;
      rows[y * LOW + u] = s;
    }
  }
  const dct = new Float64Array(LOW * LOW); // [v, u]
  for (let v = 0; v < LOW; v++) {
    for (let u = 0; u < LOW; u++) {
      let s = 0;
      for (let y = 0; y < N; y++) s += rows[y * LOW + u]! * COS[v * N + y]!;
      dct[v * LOW + u] = s;
    }
  }
  const sorted = Array.from(dct).sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 64; i++) {
    if (dct[i]! > median) {
      if (i < 32) hi |= 1 << (31 - i);
      else lo |= 1 << (63 - i);
    }
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** Mean colour of each cell of a 4 × 4 grid (from the 32 × 32 one): [16 × channels] uint8. */
export function colourSignature(grid: Float64Array, channels: number): Uint8Array {
  const cells = 4;
  const f = GRID / cells;
  const out = new Uint8Array(cells * cells * channels);
  for (let cy = 0; cy < cells; cy++) {
    for (let cx = 0; cx < cells; cx++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let y = cy * f; y < (cy + 1) * f; y++) for (let x = cx * f; x < (cx + 1) * f; x++) s += grid[(y * GRID + x) * channels + c]!;
        out[(cy * cells + cx) * channels + c] = Math.round(s / (f * f));
      }
    }
  }
  return out;
}

function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function hammingDistance(a: string, b: string): number {
  return popcount((parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) >>> 0) + popcount((parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16)) >>> 0);
}

export interface Kept {
  id: number;
  file: string;
}

/** Everything already in the dataset (and kept so far in this import), for duplicate checks. */
export class DuplicateIndex {
  private readonly exact = new Map<string, Kept>();
  private hi: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  private lo: Uint32Array<ArrayBuffer> = new Uint32Array(1024);
  private sigs: Array<Uint8Array | null> = [];
  private kept: Kept[] = [];
  private n = 0;

  add(pixelHash: string, phash: string | null, sig: Uint8Array | null, kept: Kept): void {
    this.exact.set(pixelHash, kept);
    if (!phash) return;
    if (this.n === this.hi.length) {
      const grow = (a: Uint32Array): Uint32Array<ArrayBuffer> => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.hi = grow(this.hi);
      this.lo = grow(this.lo);
    }
    this.hi[this.n] = parseInt(phash.slice(0, 8), 16);
    this.lo[this.n] = parseInt(phash.slice(8), 16);
    this.sigs[this.n] = sig;
    this.kept[this.n] = kept;
    this.n++;
  }

  findExact(pixelHash: string): Kept | undefined {
    return this.exact.get(pixelHash);
  }

  /** The closest kept image within `threshold` bits whose colours also match; null if none. */
  findNear(phash: string, sig: Uint8Array, threshold: number, colourTolerance: number): { kept: Kept; distance: number } | null {
    if (threshold < 0) return null;
    const h = parseInt(phash.slice(0, 8), 16);
    const l = parseInt(phash.slice(8), 16);
    let best = -1;
    let bestD = threshold + 1;
    for (let i = 0; i < this.n; i++) {
      const d = popcount((this.hi[i]! ^ h) >>> 0) + popcount((this.lo[i]! ^ l) >>> 0);
      if (d < bestD && coloursMatch(this.sigs[i]!, sig, colourTolerance)) {
        best = i;
        bestD = d;
        if (d === 0) break;
      }
    }
    return best < 0 ? null : { kept: this.kept[best]!, distance: bestD };
  }
}

function coloursMatch(a: Uint8Array | null, b: Uint8Array, tolerance: number): boolean {
  if (!a || a.length !== b.length) return a === null;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > tolerance) return false;
  return true;
}
