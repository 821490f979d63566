/**
 * Which better-sqlite3 binding this process loads. better-sqlite3 is not an N-API module: its
 * binding is built for one runtime's ABI (Node's for the CLI and tests). Under Electron started by
 * `npm start` (scripts/start.js), ATELIER_SQLITE_BINDING names a binding built for Electron's ABI;
 * a packaged app has its modules rebuilt by electron-builder and needs none.
 */
import type Database from 'better-sqlite3';

export const SQLITE_BINDING_ENV = 'ATELIER_SQLITE_BINDING';

/** `options` plus the binding named by ATELIER_SQLITE_BINDING, when set. */
export function sqliteOptions(options: Database.Options = {}, env: NodeJS.ProcessEnv = process.env): Database.Options {
  const binding = env[SQLITE_BINDING_ENV];
  return binding ? { ...options, nativeBinding: binding } : options;
}
