/**
 * The dataset as a StyleGAN2-ADA archive, for training at scale with the PyTorch tools
 * (`train.py --data=dataset.zip`): `00000/img00000000.png`, `00000/img00000001.png`, … (1,000
 * per folder) and `dataset.json` = `{"labels": [["00000/img00000000.png", 3], …]}`, or
 * `{"labels": null}` when any image is unlabelled (as NVlabs' dataset_tool.py does). An extra
 * `"classes"` key names the class indices; the loader reads only `"labels"`.
 *
 * The PNGs are stored (already compressed), the archive is written beside `out` under a temporary
 * name and renamed at the end (core/export/output.ts), and the event loop gets a turn between chunks.
 */
import type { DatasetExportResult } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { DatasetStore } from '../store/dataset.js';
import { writeAtomically } from './output.js';
import { writeZip } from './zip-writer.js';

export interface DatasetZipOptions {
  /** 'auto': labels when every image has one; 'none': always `"labels": null`. */
  labels?: 'auto' | 'none';
  /** Replace an existing file at `out`. */
  overwrite?: boolean;
  /** How the user asks to replace an existing file, for the message (default: 'confirm replacing it'). */
  forceHint?: string;
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
  const labels = store.labels();
  const classOf = new Map(labels.map((l) => [l.id, l.classIndex]));
  const o = { kind: 'file' as const, overwrite: options.overwrite ?? false, ...(options.forceHint !== undefined ? { forceHint: options.forceHint } : {}) };
  const { value: written, bytes } = await writeAtomically(out, o, (tmp) =>
    writeZip(tmp, async (zip) => {
      const entries: Array<[string, number | null]> = [];
      for (const row of store.exportRows()) {
        const name = archiveName(entries.length);
        zip.add(name, new Uint8Array(row.pixels.buffer, row.pixels.byteOffset, row.pixels.byteLength));
        entries.push([name, row.labelId === null ? null : (classOf.get(row.labelId) ?? null)]);
        if (entries.length % 32 === 0) {
          await zip.flush();
          options.onProgress?.(entries.length, total);
        }
      }
      const labelled = options.labels !== 'none' && labels.length > 0 && entries.every(([, c]) => c !== null);
      zip.add('dataset.json', new TextEncoder().encode(JSON.stringify({ labels: labelled ? entries : null, ...(labelled ? { classes: labels.map((l) => l.name) } : {}) })));
      return { images: entries.length, labelled };
    }),
  );
  options.onProgress?.(written.images, total);
  return { path: out, images: written.images, labelled: written.labelled, classes: written.labelled ? labels.map((l) => l.name) : [], bytes };
}
