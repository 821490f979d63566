/** What every CLI command shares: its output streams and argument parsing. */
import { parseArgs } from 'node:util';

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** parseArgs with the options every command has (`--json`, `--help`), strict, positionals allowed. */
export function parseCommand<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(argv: string[], options: T) {
  return parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
}
