/**
 * An interpolation strip as files: an animated GIF (looping; small images scaled up by whole
 * pixels to about 256 px, so they stay sharp) or a folder of PNGs at the generator's size
 * (frame-000.png, …, exact pixels) with a manifest of the frames' provenance.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import gifenc from 'gifenc';
import type { ExportResult } from '../api/contract.js';
import { writeAtomically } from './output.js';

// gifenc is CommonJS without named exports Node can see.
const { applyPalette, GIFEncoder, quantize } = gifenc;

export interface StripFrame {
  /** [R, R, C] uint8, C = 1 or 3. */
  pixels: Uint8Array;
  png: Uint8Array;
  record: Record<string, unknown>;
}

/** RGBA of a frame, scaled up `scale`× by repeating pixels. */
function rgbaOf(pixels: Uint8Array, size: number, channels: number, scale: number): Uint8Array {
  const out = size * scale;
  const rgba = new Uint8Array(out * out * 4);
  for (let y = 0; y < out; y++) {
    for (let x = 0; x < out; x++) {
      const from = (Math.floor(y / scale) * size + Math.floor(x / scale)) * channels;
      const to = (y * out + x) * 4;
      rgba[to] = pixels[from] as number;
      rgba[to + 1] = pixels[from + (channels === 3 ? 1 : 0)] as number;
      rgba[to + 2] = pixels[from + (channels === 3 ? 2 : 0)] as number;
      rgba[to + 3] = 255;
    }
  }
  return rgba;
}

export function encodeGif(frames: readonly StripFrame[], size: number, channels: number, fps: number): Uint8Array {
  const scale = Math.max(1, Math.floor(256 / size));
  const gif = GIFEncoder();
  const delay = Math.round(1000 / fps);
  frames.forEach((f, i) => {
    const rgba = rgbaOf(f.pixels, size, channels, scale);
    const palette = quantize(rgba, 256);
    gif.writeFrame(applyPalette(rgba, palette), size * scale, size * scale, i === 0 ? { palette, delay, repeat: 0 } : { palette, delay });
  });
  gif.finish();
  return gif.bytes();
}

export async function writeStrip(
  out: string,
  frames: readonly StripFrame[],
  o: { format: 'gif' | 'png-sequence'; size: number; channels: number; fps: number; overwrite: boolean; manifest: Record<string, unknown>; forceHint?: string },
): Promise<ExportResult> {
  const opts = { overwrite: o.overwrite, ...(o.forceHint ? { forceHint: o.forceHint } : {}) };
  if (o.format === 'gif') {
    const bytes = encodeGif(frames, o.size, o.channels, o.fps);
    return writeAtomically(out, { kind: 'file', ...opts }, async (tmp) => {
      await writeFile(tmp, bytes);
      return { format: 'gif', path: out, files: [out.split(/[\\/]/).pop()!], bytes: bytes.byteLength, images: frames.length };
    });
  }
  return writeAtomically(out, { kind: 'dir', ...opts }, async (tmp) => {
    const files: string[] = [];
    let bytes = 0;
    const records: Array<Record<string, unknown>> = [];
    for (const [i, f] of frames.entries()) {
      const name = `frame-${String(i).padStart(3, '0')}.png`;
      await writeFile(join(tmp, name), f.png);
      files.push(name);
      bytes += f.png.byteLength;
      records.push({ file: name, ...f.record });
    }
    const manifest = `${JSON.stringify({ ...o.manifest, fps: o.fps, frames: records }, null, 2)}\n`;
    await writeFile(join(tmp, 'manifest.json'), manifest);
    return { format: 'png-sequence', path: out, files: [...files, 'manifest.json'], bytes: bytes + Buffer.byteLength(manifest), images: frames.length };
  });
}
