/**
 * The dataset as a StyleGAN2-ADA archive, for training at scale with the PyTorch tools
 * (`train.py --data=dataset.zip`): `00000/img00000000.png`, `00000/img00000001.png`, … (1,000
 * per folder) and `dataset.json` = `{"labels": [["00000/img00000000.png", 3], …]}`, or
 * `{"labels": null}` when any image is unlabelled (as NVlabs' dataset_tool.py does). An extra
 * `"classes"` key names the class indices; the loader reads only `"labels"`.
 *
 * The PNGs are stored (already compressed), the archive is written to `<out>.partial` and renamed
 * at the end, and the event loop gets a turn between chunks.
 */
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { Zip, ZipPassThrough } from 'fflate';
import type { DatasetExportResult } from '../api/contract.js';
import { UserError, describeIoError } from '../api/errors.js';
import type { DatasetStore } from '../store/dataset.js';

export interface DatasetZipOptions {
  /** 'auto': labels when every image has one; 'none': always `"labels": null`. */
  labels?: 'auto' | 'none';
  /** Replace an existing file at `out`. */
  overwrite?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** `img00000042.png` in folder `00000`, as dataset_tool.py names them. */
export function archiveName(index: number): string {
  const idx = String(index).padStart(8, '0');
  return `${idx.slice(0, 5)}/img${idx}.png`;
}

export async function exportDatasetZip(store: DatasetStore, out: string, options: DatasetZipOptions = {}): Promise<DatasetExportResult> {
  const total = store.imageCount();
  if (total === 0) throw new UserError('not-found', 'The dataset is empty: import images first, then export.');
  if (!options.overwrite && (await exists(out))) {
    throw new UserError('exists', `${out} already exists. Pick another name, or pass --force to replace it.`, out);
  }
  const labels = store.labels();
  const classOf = new Map(labels.map((l) => [l.id, l.classIndex]));
  const partial = `${out}.partial`;
  let fh: FileHandle | null;
  try {
    fh = await open(partial, 'w');
  } catch (err) {
    throw describeIoError(err, partial, 'write');
  }
  const pending: Uint8Array[] = [];
  let zipError: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) zipError = err;
    else pending.push(chunk);
  });
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (zipError) throw zipError;
    while (pending.length > 0) {
      const chunk = pending.shift()!;
      await fh!.write(chunk);
      bytes += chunk.length;
    }
  };
  try {
    const entries: Array<[string, number | null]> = [];
    let index = 0;
    for (const row of store.exportRows()) {
      const name = archiveName(index++);
      const file = new ZipPassThrough(name);
      zip.add(file);
      file.push(new Uint8Array(row.pixels.buffer, row.pixels.byteOffset, row.pixels.byteLength), true);
      entries.push([name, row.labelId === null ? null : (classOf.get(row.labelId) ?? null)]);
      if (index % 32 === 0) {
        await flush();
        options.onProgress?.(index, total);
      }
    }
    const labelled = options.labels !== 'none' && labels.length > 0 && entries.every(([, c]) => c !== null);
    const json = JSON.stringify({ labels: labelled ? entries : null, ...(labelled ? { classes: labels.map((l) => l.name) } : {}) });
    const meta = new ZipPassThrough('dataset.json');
    zip.add(meta);
    meta.push(new TextEncoder().encode(json), true);
    zip.end();
    await flush();
    await fh!.close();
    fh = null;
    await rename(partial, out);
    options.onProgress?.(index, total);
    return { path: out, images: index, labelled, classes: labelled ? labels.map((l) => l.name) : [], bytes };
  } catch (err) {
    await fh?.close().catch(() => {});
    await rm(partial, { force: true });
    throw err instanceof UserError ? err : describeIoError(err, out, 'write');
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
