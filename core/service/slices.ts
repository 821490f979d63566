/**
 * The handler table is assembled the way the contract is: each domain (project, dataset, train,
 * metrics, gallery, models) fills the handlers of its own slice of methods (core/api/<domain>.ts),
 * typed off that slice, and studio-service.ts merges the slices into one `Handlers` — so a method
 * added to a slice without a handler is still a compile error.
 */
import type { z } from 'zod';
import type { StudioEvent } from '../api/contract.js';
import type { CallContext } from '../api/dispatch.js';
import { UserError } from '../api/errors.js';
import type { DialogName, Host } from './host.js';

/** One handler per method of a domain's slice of StudioApi (e.g. `typeof datasetMethods`). */
export type SliceHandlers<S extends Record<string, { params: z.ZodType; result: unknown }>> = {
  [M in keyof S]: (params: z.infer<S[M]['params']>, ctx: CallContext) => Promise<S[M]['result']> | S[M]['result'];
};

/** What every slice may use of the service: the host, events, and the checks on paths from the renderer. */
export interface ServiceContext {
  readonly host: Host;
  emit(event: StudioEvent): void;
  /** A source path from the renderer: canonical, existing, and one the user picked. */
  allowedSource(raw: string): string;
  /** An export destination from the renderer: canonical, picked for saving, and never the open project (or a folder holding it). */
  allowedOutput(raw: string): string;
}

/** A per-project service as a slice reaches it: `require()` throws when no project is open; `current()` is null then. */
export interface ProjectPart<T> {
  require(): T;
  current(): T | null;
}

/** The host's native dialog `name`; in the browser mode (none), a clear error instead. */
export function nativeDialog<N extends DialogName>(host: Host, name: N): NonNullable<Host[N]> {
  const dialog = host[name];
  if (!dialog) throw new UserError('unavailable', 'Native dialogs exist only in the desktop app; the browser mode uses the built-in chooser.');
  return dialog as NonNullable<Host[N]>;
}
