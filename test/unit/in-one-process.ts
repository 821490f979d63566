/**
 * The unit tier in one process: scripts/run-tests.js passes the unit files that share a process
 * in ATELIER_UNIT_FILES (separated by the path delimiter); this module imports them, so node:test
 * runs their tests here, one file after another. Starting Node, tsx and TF.js once instead of once
 * per file is what keeps the tier well under a minute. A file that needs a fresh process says so
 * in a `// @own-process: why` line and is run apart (scripts/run-tests.js).
 */
import { delimiter } from 'node:path';
import { pathToFileURL } from 'node:url';

const files = (process.env['ATELIER_UNIT_FILES'] ?? '').split(delimiter).filter((f) => f.length > 0);
if (files.length === 0) throw new Error('in-one-process.ts: ATELIER_UNIT_FILES is empty; run the unit tier with `npm run test:unit`.');
for (const file of files) await import(pathToFileURL(file).href);
