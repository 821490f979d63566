/**
 * One question to a short-lived worker: spawn it, (optionally) send the request, take its first
 * message as the answer, and end it — with a time limit, stderr's last line kept for the message
 * when it dies, and a start failure answered too. The backend probe, the judges' cost and the ONNX
 * reader ask this way; long-lived workers (jobs, the sampler) do not.
 */
import { UserError } from '../api/errors.js';
import { spawnWorker, type SpawnOptions } from './spawn.js';

export interface AskWorker<T> {
  spawn?: Omit<SpawnOptions, 'stderr'>;
  /** Sent once the worker is up; absent: the worker reads its request from its arguments or env. */
  request?: unknown;
  timeoutMs: number;
  /** The worker's first message: the answer, or the error to reject with. */
  answer: (message: unknown) => T | UserError;
  /** The error when the time limit passes (the worker is killed). */
  timedOut: () => UserError;
  /** The error when the worker ends (or cannot start) without answering; `why` is its exit or start error, `lastLine` stderr's last line. */
  died: (why: string, lastLine: string) => UserError;
}

export function askWorker<T>(entry: URL, o: AskWorker<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawnWorker(entry, { ...o.spawn, stderr: 'pipe' });
    let stderr = '';
    let settled = false;
    const settle = (value: T | UserError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (value instanceof UserError) reject(value);
      else resolve(value);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(o.timedOut());
    }, o.timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.onMessage((message) => settle(o.answer(message)));
    child.onError((err) => settle(o.died(`could not start: ${err.message}`, '')));
    child.onExit((code, signal) => settle(o.died(signal ?? `code ${code}`, stderr.trim().split('\n').pop() || 'no output')));
    if (o.request !== undefined) child.send(o.request);
  });
}
