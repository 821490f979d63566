/**
 * Export 4: images as PNGs — a folder, or a .zip when the destination ends in .zip — with
 * `manifest.json`: for every file, where it came from (generator, run, checkpoint, seed, ψ,
 * class, how it was made), so a picked image can be made again. Seeds are rendered in the
 * sampling worker; kept items are copied from the project file (`writeItemsExport`).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportResult } from '../api/contract.js';
import type { GalleryStore } from '../store/gallery.js';
import { writeAtomically } from './output.js';
import { writeZip } from './zip-writer.js';

export interface ImageEntry {
  /** File name inside the folder or archive (e.g. 'seed-000042.png'). */
  file: string;
  png: Uint8Array;
  /** This image's provenance, written to the manifest. */
  record: Record<string, unknown>;
}

export interface ImagesExportOptions {
  overwrite: boolean;
  /** What the manifest says about the whole set (generator, noise, backend, studio version…). */
  manifest: Record<string, unknown>;
  forceHint?: string;
  onProgress?: (done: number) => void;
}

export const MANIFEST_FILE = 'manifest.json';

export const isZipPath = (p: string): boolean => p.toLowerCase().endsWith('.zip');

/** Writes the entries (made on demand, in order) and the manifest. */
export async function writeImagesExport(out: string, entries: AsyncIterable<ImageEntry>, o: ImagesExportOptions): Promise<ExportResult> {
  const zip = isZipPath(out);
  return writeAtomically(out, { kind: zip ? 'file' : 'dir', overwrite: o.overwrite, ...(o.forceHint ? { forceHint: o.forceHint } : {}) }, async (tmp) => {
    const records: Array<Record<string, unknown>> = [];
    const files: string[] = [];
    const manifestOf = (): string => `${JSON.stringify({ ...o.manifest, exportedAt: new Date().toISOString(), images: records }, null, 2)}\n`;
    if (!zip) {
      let bytes = 0;
      for await (const e of entries) {
        await writeFile(join(tmp, e.file), e.png);
        bytes += e.png.byteLength;
        files.push(e.file);
        records.push({ file: e.file, ...e.record });
        o.onProgress?.(records.length);
      }
      const manifest = manifestOf();
      await writeFile(join(tmp, MANIFEST_FILE), manifest);
      return { format: 'images', path: out, files: [...files, MANIFEST_FILE], bytes: bytes + Buffer.byteLength(manifest), images: records.length };
    }
    // A zip, streamed to disk.
    const { bytes } = await writeZip(tmp, async (archive) => {
      for await (const e of entries) {
        archive.add(e.file, e.png);
        files.push(e.file);
        records.push({ file: e.file, ...e.record });
        await archive.flush();
        o.onProgress?.(records.length);
      }
      archive.add(MANIFEST_FILE, new TextEncoder().encode(manifestOf()));
    });
    return { format: 'images', path: out, files: [...files, MANIFEST_FILE], bytes, images: records.length };
  });
}

/**
 * Kept items as their stored PNGs (item-12.png, …), each item's provenance in the manifest. Read
 * from the project file: no generator, no worker, so the items of a deleted model export too.
 */
export function writeItemsExport(store: GalleryStore, ids: readonly number[], out: string, o: { overwrite: boolean; studioVersion: string }): Promise<ExportResult> {
  async function* items(): AsyncGenerator<ImageEntry> {
    for (const id of ids) {
      const { png, record } = store.pngAndRecord(id);
      yield { file: `item-${id}.png`, png, record: { itemId: id, ...record } };
    }
  }
  const manifest = { generator: null, note: 'kept items, each with its own provenance', studioVersion: o.studioVersion };
  return writeImagesExport(out, items(), { overwrite: o.overwrite, manifest });
}
