/**
 * The worker side of the job protocol. A worker entry calls `runWorker<JobSpec<'train'>>(main)`;
 * `main` gets the job's params and a context to report progress and to learn, at its own safe
 * points, whether the user asked it to pause or stop — all typed by the job's kind.
 */
import { UserError, type ApiError } from '../api/errors.js';
import type { KindSpec } from './kinds.js';
import type { ControlAction, FromWorker, JobOutcome, StartMessage, ToWorker } from './protocol.js';
import { workerMain } from './worker-main.js';

export interface WorkerContext<S extends KindSpec> {
  jobId: number;
  projectPath: string;
  params: S['params'];
  /** Sends progress to the service (cheap; call at most a few times a second). */
  progress(progress: S['progress']): void;
  /** What the user asked for since the start: null (keep going), 'pause' or 'stop'. */
  readonly requested: ControlAction | null;
}

export interface WorkerResult<S extends KindSpec> {
  outcome: JobOutcome;
  result?: S['result'];
}

export function runWorker<S extends KindSpec>(main: (ctx: WorkerContext<S>) => Promise<WorkerResult<S>>): void {
  const channel = workerMain<ToWorker<S>, FromWorker<S>>('job');
  let requested: ControlAction | null = null;
  let started = false;

  // The service went away: save and leave, as on pause.
  channel.onDisconnect(() => {
    requested ??= 'pause';
  });

  channel.onMessage((raw) => {
    if (raw.type === 'control') {
      // 'stop' outranks an earlier 'pause'.
      if (requested !== 'stop') requested = raw.action;
      return;
    }
    if (raw.type !== 'start' || started) return;
    started = true;
    void run(raw);
  });

  async function run(start: StartMessage<S['params']>): Promise<void> {
    const ctx: WorkerContext<S> = {
      jobId: start.jobId,
      projectPath: start.projectPath,
      params: start.params,
      progress: (progress) => channel.send({ type: 'progress', progress }),
      get requested() {
        return requested;
      },
    };
    let last: FromWorker<S>;
    try {
      const { outcome, result } = await main(ctx);
      last = { type: 'done', outcome, result: result ?? null };
    } catch (err) {
      const error: ApiError =
        err instanceof UserError ? err.toApiError() : { code: 'internal', message: `${(err as Error)?.message ?? String(err)}` };
      if (!(err instanceof UserError)) console.error(err);
      last = { type: 'failed', error };
    }
    // Let the last message go out, then leave even if a library keeps handles open.
    channel.send(last, () => {
      channel.close();
      setTimeout(() => process.exit(0), 50).unref();
    });
  }
}
