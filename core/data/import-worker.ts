/**
 * The import worker's entry (a child process started with `forkWorker`). Protocol on Node's IPC
 * channel:
 *   parent → worker  { type: 'start', job: ImportJob } | { type: 'cancel' }
 *   worker → parent  { type: 'progress', progress } | { type: 'done', report } | { type: 'failed', message }
 * The worker writes to the project file itself; the parent only relays. If the parent goes away,
 * the worker cancels: what it decided is committed, and it exits.
 */
import type { ImportProgress, ImportReport } from '../api/contract.js';
import { runImport, type ImportJob } from './import-pipeline.js';

export type ToWorker = { type: 'start'; job: ImportJob } | { type: 'cancel' };
export type FromWorker = { type: 'progress'; progress: ImportProgress } | { type: 'done'; report: ImportReport } | { type: 'failed'; message: string };

let cancelled = false;
let started = false;

function send(msg: FromWorker, then?: () => void): void {
  if (process.connected) process.send!(msg, undefined, {}, () => then?.());
  else then?.();
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'cancel') {
    cancelled = true;
    return;
  }
  if (msg.type !== 'start' || started) return;
  started = true;
  runImport(msg.job, { onProgress: (progress) => send({ type: 'progress', progress }), cancelled: () => cancelled }).then(
    (report) => {
      send({ type: 'done', report }, disconnect);
    },
    (err: unknown) => {
      process.exitCode = 1;
      send({ type: 'failed', message: (err as Error)?.message ?? String(err) }, disconnect);
    },
  );
});

function disconnect(): void {
  if (process.connected) process.disconnect();
}

process.on('disconnect', () => {
  cancelled = true;
});
