/**
 * The boundary every request crosses, whichever the transport: the method must exist in
 * StudioApi, its params must match the method's schema, and whatever the handler throws comes
 * back as a typed `{ok: false, error}` with a message a user can act on.
 */
import type { z } from 'zod';
import { isMethod, methods, type Method, type Params, type ResultOf } from './contract.js';
import { UserError, type Result } from './errors.js';

/** What the host knows about who is calling. */
export interface CallContext {
  /** 'ipc' (Electron) or 'ws' (browser mode). */
  transport: 'ipc' | 'ws';
}

/** The table every host fills: one handler per StudioApi method. A missing one is a type error. */
export type Handlers = {
  [M in Method]: (params: Params<M>, ctx: CallContext) => Promise<ResultOf<M>> | ResultOf<M>;
};

export type Dispatch = (method: unknown, params: unknown, ctx: CallContext) => Promise<Result<unknown>>;

export interface DispatchOptions {
  /** Where unexpected errors (bugs) are logged. */
  log?: (message: string, err: unknown) => void;
}

export function createDispatcher(handlers: Handlers, options: DispatchOptions = {}): Dispatch {
  const log = options.log ?? ((message, err) => console.error(message, err));
  return async (method, params, ctx) => {
    if (!isMethod(method)) {
      return {
        ok: false,
        error: { code: 'unknown-method', message: `The studio has no operation named ${JSON.stringify(method)}. The window and the service may be from different versions: restart the studio.` },
      };
    }
    const parsed = (methods[method].params as z.ZodType).safeParse(params ?? {});
    if (!parsed.success) {
      return { ok: false, error: { code: 'invalid-request', message: describeIssues(method, parsed.error) } };
    }
    try {
      const handler = handlers[method] as (p: unknown, c: CallContext) => unknown;
      const value = await handler(parsed.data, ctx);
      return { ok: true, value };
    } catch (err) {
      if (err instanceof UserError) return { ok: false, error: err.toApiError() };
      log(`[atelier] ${method} failed unexpectedly`, err);
      return {
        ok: false,
        error: { code: 'internal', message: `${method} failed unexpectedly: ${(err as Error)?.message ?? String(err)}. This is a bug in the studio; nothing was changed on disk by the failed step.` },
      };
    }
  };
}

/** One readable sentence from a zod error: which field, what is wrong. */
export function describeIssues(method: string, error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : 'request';
    if (issue.code === 'unrecognized_keys') return `unexpected field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${where}: ${issue.message}`;
  });
  return `Invalid ${method} request — ${parts.join('; ')}.`;
}

/** A typed caller over a dispatcher, for code in the same process (CLI, tests). */
export type Client = <M extends Method>(method: M, params: Params<M>) => Promise<Result<ResultOf<M>>>;

export function createClient(dispatch: Dispatch, ctx: CallContext): Client {
  return (method, params) => dispatch(method, params, ctx) as Promise<Result<ResultOf<typeof method>>>;
}
