/**
 * The worker side of the job protocol. A worker entry calls `runWorker(main)`; `main` gets the
 * job's params and a context to report progress and to learn, at its own safe points, whether
 * the user asked it to pause or stop.
 */
import { UserError, type ApiError } from '../api/errors.js';
import { diskFullError, isDiskFull } from '../store/disk-full.js';
import type { ControlAction, FromWorker, JobOutcome, StartMessage, ToWorker } from './protocol.js';

export interface WorkerContext<P> {
  jobId: number;
  projectPath: string;
  params: P;
  /** Sends progress to the service (cheap; call at most a few times a second). */
  progress(progress: unknown): void;
  /** What the user asked for since the start: null (keep going), 'pause' or 'stop'. */
  readonly requested: ControlAction | null;
}

export interface WorkerResult {
  outcome: JobOutcome;
  result?: unknown;
}

export function runWorker<P>(main: (ctx: WorkerContext<P>) => Promise<WorkerResult>): void {
  if (!process.send) throw new Error('A worker entry must be started by forkWorker (no IPC channel).');
  const send = (msg: FromWorker): void => {
    // With a callback, a send that fails because the service just died reports to it instead of
    // throwing: the worker still gets to save its checkpoint and exit.
    if (process.connected) process.send!(msg, undefined, {}, () => undefined);
  };
  let requested: ControlAction | null = null;
  let started = false;

  // The service went away: save and leave, as on pause.
  process.on('disconnect', () => {
    requested ??= 'pause';
  });

  process.on('message', (raw: ToWorker) => {
    if (raw.type === 'control') {
      // 'stop' outranks an earlier 'pause'.
      if (requested !== 'stop') requested = raw.action;
      return;
    }
    if (raw.type !== 'start' || started) return;
    started = true;
    void run(raw);
  });

  async function run(start: StartMessage): Promise<void> {
    const ctx: WorkerContext<P> = {
      jobId: start.jobId,
      projectPath: start.projectPath,
      params: start.params as P,
      progress: (progress) => send({ type: 'progress', progress }),
      get requested() {
        return requested;
      },
    };
    try {
      const { outcome, result } = await main(ctx);
      send({ type: 'done', outcome, result: result ?? null });
    } catch (err) {
      const error: ApiError =
        err instanceof UserError
          ? err.toApiError()
          : isDiskFull(err)
            ? diskFullError(start.projectPath).toApiError()
            : { code: 'internal', message: `${(err as Error)?.message ?? String(err)}` };
      if (!(err instanceof UserError) && !isDiskFull(err)) console.error(err);
      send({ type: 'failed', error });
    } finally {
      // Let the last message flush, then leave even if a library keeps handles open.
      process.disconnect?.();
      setTimeout(() => process.exit(0), 50).unref();
    }
  }
}
