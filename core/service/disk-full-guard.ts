/**
 * The service's handlers, with SQLite's "database or disk is full" turned into the one-line
 * reason naming the open project (core/store/disk-full.ts) — in the browser mode and the desktop
 * app alike — instead of an "unexpected error" that blames a bug.
 */
import type { Handlers } from '../api/dispatch.js';
import { diskFullError } from '../store/disk-full.js';

export function withDiskFullReason(handlers: Handlers, projectPath: () => string | null): Handlers {
  const wrapped: Record<string, (params: never, ctx: never) => Promise<unknown>> = {};
  for (const [method, handler] of Object.entries(handlers) as Array<[string, (params: never, ctx: never) => unknown]>) {
    wrapped[method] = async (params, ctx) => {
      try {
        return await handler(params, ctx);
      } catch (err) {
        const path = projectPath();
        // Only the project file's writes: a full disk under an export's destination is named by the export itself.
        throw (err as { code?: unknown })?.code === 'SQLITE_FULL' && path !== null ? diskFullError(path) : err;
      }
    };
  }
  return wrapped as unknown as Handlers;
}
