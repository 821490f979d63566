/**
 * A decode thread (worker_threads) inside the import worker: runs `processEntry` for the
 * coordinator, so decoding, resizing, hashing and PNG encoding use every core while the
 * coordinator's own thread only dedupes and writes to SQLite.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { NormaliseSettings } from '../api/contract.js';
import { processEntry, type EntryContext, type EntryOutcome } from './process-entry.js';
import type { SourceEntry } from './sources.js';

export interface ThreadData {
  settings: NormaliseSettings;
  options: EntryContext['options'];
  known: string[];
}

export type ThreadRequest = { id: number; entry: SourceEntry };
export type ThreadReply = { id: number; outcome: EntryOutcome } | { id: number; error: string };

const data = workerData as ThreadData;
const ctx: EntryContext = { settings: data.settings, options: data.options, known: new Set(data.known) };
const port = parentPort!;

// The pool keeps several entries queued here, so this thread never waits on the coordinator (busy
// committing, say); only a couple run at once (a file's bytes are read when it starts), enough for
// sharp's work on its own threads to overlap this thread's JavaScript.
const RUNNING = 2;
const queue: ThreadRequest[] = [];
let running = 0;

port.on('message', (req: ThreadRequest) => {
  queue.push(req);
  next();
});

function next(): void {
  while (running < RUNNING && queue.length > 0) {
    const req = queue.shift()!;
    running++;
    processEntry(req.entry, ctx)
      .then(
        (outcome) => port.postMessage({ id: req.id, outcome } satisfies ThreadReply, transferables(outcome)),
        (err: unknown) => port.postMessage({ id: req.id, error: (err as Error)?.stack ?? String(err) } satisfies ThreadReply),
      )
      .finally(() => {
        running--;
        next();
      });
  }
}

/** The PNGs' memory moves to the coordinator rather than being copied (each owns its ArrayBuffer). */
function transferables(outcome: EntryOutcome): ArrayBuffer[] {
  if (outcome.kind !== 'images') return [];
  const out = new Set<ArrayBuffer>();
  for (const img of outcome.images) {
    for (const a of [img.png, img.thumb, img.colourSig]) {
      if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) out.add(a.buffer);
    }
  }
  return [...out];
}
