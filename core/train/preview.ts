/**
 * The preview grid: the same latents every tick (seeded from the run's seed, apart from the
 * training stream), through G_ema with its fixed noise, as one PNG of cols × rows cells of up to
 * 64 px. With classes, cell i shows class i mod numClasses. Same weights → same bytes.
 */
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { readFloatsAndDispose } from '../backend/read.js';
import { type Generator, oneHotLabels } from '../nets/generator.js';
import { hashInts } from '../random/rng.js';

export interface PreviewOptions {
  /** Columns × rows; default 8 × 4. */
  cols?: number;
  rows?: number;
  /** Largest cell side in pixels; default 64 (larger images are scaled down). */
  maxCell?: number;
  /** Seeds the latents; the run's seed. */
  seed: number;
}

const RENDER_BATCH = 8; // images per forward pass: bounds memory at large resolutions

export class PreviewGrid {
  readonly cols: number;
  readonly rows: number;
  readonly cell: number;
  private readonly z: tf.Tensor2D; // [cols·rows, zDim]
  private readonly classes: number[] | null;

  constructor(
    private readonly G: Generator,
    o: PreviewOptions,
  ) {
    this.cols = o.cols ?? 8;
    this.rows = o.rows ?? 4;
    this.cell = Math.min(G.config.resolution, o.maxCell ?? 64);
    const count = this.cols * this.rows;
    this.z = tf.randomNormal([count, G.config.zDim], 0, 1, 'float32', hashInts(o.seed, 0x70726576) || 1);
    const k = G.config.numClasses;
    this.classes = k > 0 ? Array.from({ length: count }, (_, i) => i % k) : null;
  }

  /** The grid as PNG bytes. */
  async render(): Promise<Buffer> {
    const { resolution: r, imageChannels: c } = this.G.config;
    const count = this.cols * this.rows;
    const grid = Buffer.alloc(this.rows * r * this.cols * r * c); // [rows·R, cols·R, C]
    for (let start = 0; start < count; start += RENDER_BATCH) {
      const n = Math.min(RENDER_BATCH, count - start);
      const pixels = tf.tidy(() => {
        const z = this.z.slice([start, 0], [n, -1]);
        const labels = this.classes === null ? undefined : oneHotLabels(this.classes.slice(start, start + n), this.G.config.numClasses);
        const img = this.G.generate(z, labels, { noise: 'const' }); // [n, R, R, C] in about [−1, 1]
        return img.clipByValue(-1, 1).add(1).mul(127.5).round();
      });
      const values = await readFloatsAndDispose(pixels);
      for (let i = 0; i < n; i++) {
        const cellIndex = start + i;
        const gx = (cellIndex % this.cols) * r;
        const gy = Math.floor(cellIndex / this.cols) * r;
        for (let y = 0; y < r; y++) {
          for (let x = 0; x < r; x++) {
            const from = ((i * r + y) * r + x) * c;
            const to = ((gy + y) * this.cols * r + gx + x) * c;
            for (let k = 0; k < c; k++) grid[to + k] = values[from + k] as number;
          }
        }
      }
    }
    let img = sharp(grid, { raw: { width: this.cols * r, height: this.rows * r, channels: c as 1 | 3 } });
    if (this.cell !== r) img = img.resize(this.cols * this.cell, this.rows * this.cell, { kernel: 'lanczos3' });
    if (c === 1) img = img.toColourspace('b-w');
    return img.png({ compressionLevel: 9 }).toBuffer();
  }

  dispose(): void {
    this.z.dispose();
  }
}
