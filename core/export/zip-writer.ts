/**
 * A zip streamed to a file as its entries are added, for exports that can be large (a dataset,
 * thousands of PNGs): entries are stored, not deflated (PNGs are compressed already), and what
 * fflate has produced is written each time the caller awaits `flush()` — which also gives the
 * event loop a turn. Callers write to a temporary path (core/export/output.ts `writeAtomically`).
 */
import { open } from 'node:fs/promises';
import { Zip, ZipPassThrough } from 'fflate';

export interface ZipSink {
  /** Adds one stored entry (written at the next `flush`). */
  add(name: string, data: Uint8Array): void;
  /** Writes what the archive has produced so far. */
  flush(): Promise<void>;
}

/** Runs `fill` with a sink into a new zip at `path`, ends the archive; returns fill's value and the bytes written. */
export async function writeZip<T>(path: string, fill: (zip: ZipSink) => Promise<T>): Promise<{ value: T; bytes: number }> {
  const fh = await open(path, 'w');
  try {
    const pending: Uint8Array[] = [];
    let failed: Error | null = null;
    let bytes = 0;
    const archive = new Zip((err, chunk) => {
      if (err) failed = err;
      else pending.push(chunk);
    });
    const flush = async (): Promise<void> => {
      if (failed) throw failed;
      while (pending.length > 0) {
        const chunk = pending.shift()!;
        await fh.write(chunk);
        bytes += chunk.byteLength;
      }
    };
    const add = (name: string, data: Uint8Array): void => {
      const f = new ZipPassThrough(name);
      archive.add(f);
      f.push(data, true);
    };
    const value = await fill({ add, flush });
    archive.end();
    await flush();
    return { value, bytes };
  } finally {
    await fh.close();
  }
}
