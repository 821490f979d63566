/**
 * Images from a loaded generator, for the gallery, the CLI and image exports (always in a worker
 * process: a forward pass blocks its thread). Every path goes the same way, so the same
 * (generator, seed, ψ, class) gives the same pixels on the same backend:
 *
 *   z, class → mapping → w ← w_avg + (w − w_avg)·ψ → read back     (latents of kind 'z')
 *   w (given: interpolation frames, arithmetic)                      (latents of kind 'w')
 *   w → synthesis with each layer's constant noise → [−1, 1] → (x + 1)·127.5, clipped, rounded
 *
 * Synthesis always starts from a w uploaded from JavaScript, so an image made from a seed and one
 * made from that seed's stored w are the same image. A sample does not depend on the others in
 * its batch (checked on wasm and cpu), so batching changes speed, not pixels.
 */
import * as tf from '@tensorflow/tfjs';
import { readFloatsAndDispose } from '../backend/read.js';
import type { Generator } from '../nets/generator.js';
import type { GeneratorMeta } from './meta.js';

export type Latent =
  /** z (seedToZ or slerp), a class vector (one-hot, or blended), and ψ. */
  | { kind: 'z'; z: Float32Array; cls: Float32Array | null; psi: number }
  /** A w ready for synthesis (after ψ). */
  | { kind: 'w'; w: Float32Array };

export interface Rendered {
  /** [R, R, C] uint8. */
  pixels: Uint8Array;
  /** The w synthesis used. */
  w: Float32Array;
}

/** Images per forward pass by resolution: bounds memory, keeps the first image quick. */
export function defaultBatch(resolution: number): number {
  return resolution <= 32 ? 16 : resolution <= 64 ? 8 : resolution <= 128 ? 4 : resolution <= 256 ? 2 : 1;
}

/** A one-hot class vector, or null for an unconditional generator. */
export function oneHot(meta: Pick<GeneratorMeta, 'net'>, classIndex: number | null): Float32Array | null {
  const k = meta.net.numClasses;
  if (k === 0) return null;
  const v = new Float32Array(k);
  v[classIndex ?? 0] = 1;
  return v;
}

export class Sampler {
  readonly batch: number;
  readonly resolution: number;
  readonly channels: number;

  constructor(
    readonly G: Generator,
    readonly meta: GeneratorMeta,
    batch?: number,
  ) {
    this.batch = batch ?? defaultBatch(meta.net.resolution);
    this.resolution = meta.net.resolution;
    this.channels = meta.net.imageChannels;
  }

  /** w after ψ for latents of kind 'z', one Float32Array each. */
  async wOf(latents: ReadonlyArray<Extract<Latent, { kind: 'z' }>>): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const wDim = this.meta.net.wDim;
    for (let start = 0; start < latents.length; start += this.batch) {
      const chunk = latents.slice(start, start + this.batch);
      const flat = await readFloatsAndDispose(this.mapTruncated(chunk));
      for (let i = 0; i < chunk.length; i++) out.push(flat.slice(i * wDim, (i + 1) * wDim));
    }
    return out;
  }

  /** z, class → mapping → ψ. [n, wDim] */
  private mapTruncated(chunk: ReadonlyArray<Extract<Latent, { kind: 'z' }>>): tf.Tensor2D {
    const { zDim, numClasses } = this.meta.net;
    const n = chunk.length;
    return tf.tidy(() => {
      const zFlat = new Float32Array(n * zDim);
      chunk.forEach((l, i) => zFlat.set(l.z, i * zDim));
      let c: tf.Tensor2D | undefined;
      if (numClasses > 0) {
        const cFlat = new Float32Array(n * numClasses);
        chunk.forEach((l, i) => {
          if (l.cls === null || l.cls.length !== numClasses) throw new Error(`Sampler: a class vector of ${numClasses} values is required`);
          cFlat.set(l.cls, i * numClasses);
        });
        c = tf.tensor2d(cFlat, [n, numClasses]);
      }
      const w = this.G.mapping(tf.tensor2d(zFlat, [n, zDim]), c); // [n, wDim], no ψ yet
      const psi = tf.tensor2d(Float32Array.from(chunk, (l) => l.psi), [n, 1]);
      return this.G.wAvg.add(w.sub(this.G.wAvg).mul(psi)) as tf.Tensor2D;
    });
  }

  /** w [n·wDim] → images [n, R, R, C] in about [−1, 1]. */
  private synthesise(w: Float32Array, n: number): tf.Tensor4D {
    return tf.tidy(() => this.G.synthesis(tf.tensor2d(w, [n, this.meta.net.wDim]), 'const'));
  }

  /** The float images (before pixels) for latents of kind 'z': parity checks of exported files. */
  async imagesFloat(latents: ReadonlyArray<Extract<Latent, { kind: 'z' }>>): Promise<Float32Array> {
    const ws = await this.wOf(latents);
    const flat = new Float32Array(ws.length * this.meta.net.wDim);
    ws.forEach((w, i) => flat.set(w, i * this.meta.net.wDim));
    return readFloatsAndDispose(this.synthesise(flat, ws.length));
  }

  /**
   * Renders latents in order, calling `onItem` as each batch comes back. `cancelled` is asked
   * before each batch. The first batch holds one image, so the first one shows quickly. Returns
   * how many were rendered.
   */
  async render(latents: readonly Latent[], onItem: (index: number, r: Rendered) => void | Promise<void>, cancelled: () => boolean = () => false): Promise<number> {
    const wDim = this.meta.net.wDim;
    const r = this.resolution;
    const c = this.channels;
    let start = 0;
    while (start < latents.length) {
      // A turn of the event loop before each batch, so a cancel (an IPC message) gets in: nothing
      // else here waits on more than promises (reads on wasm/cpu, the PNG encoder).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (cancelled()) break;
      const size = start === 0 && latents.length > 1 ? 1 : this.batch;
      const chunk = latents.slice(start, start + size);
      const n = chunk.length;
      // w for every latent of the chunk, in order.
      const w = new Float32Array(n * wDim);
      const zs = chunk.map((l, i) => ({ l, i })).filter((e): e is { l: Extract<Latent, { kind: 'z' }>; i: number } => e.l.kind === 'z');
      if (zs.length > 0) {
        const mapped = await this.wOf(zs.map((e) => e.l));
        zs.forEach((e, k) => w.set(mapped[k]!, e.i * wDim));
      }
      chunk.forEach((l, i) => {
        if (l.kind === 'w') {
          if (l.w.length !== wDim) throw new Error(`Sampler: w has ${l.w.length} values, this generator takes ${wDim}`);
          w.set(l.w, i * wDim);
        }
      });
      // Synthesis → pixels.
      const pixels = await readFloatsAndDispose(tf.tidy(() => this.synthesise(w, n).clipByValue(-1, 1).add(1).mul(127.5).round()));
      const per = r * r * c;
      for (let i = 0; i < n; i++) {
        await onItem(start + i, { pixels: Uint8Array.from(pixels.subarray(i * per, (i + 1) * per)), w: w.slice(i * wDim, (i + 1) * wDim) });
      }
      start += n;
    }
    return start;
  }

  dispose(): void {
    this.G.dispose();
  }
}
