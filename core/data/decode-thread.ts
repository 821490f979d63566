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

port.on('message', (req: ThreadRequest) => {
  processEntry(req.entry, ctx).then(
    (outcome) => port.postMessage({ id: req.id, outcome } satisfies ThreadReply),
    (err: unknown) => port.postMessage({ id: req.id, error: (err as Error)?.stack ?? String(err) } satisfies ThreadReply),
  );
});
