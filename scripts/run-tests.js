#!/usr/bin/env node
// Runs the test suite with Node's own test runner (TypeScript through tsx).
//   node scripts/run-tests.js          unit, then e2e (browser) tests
//   node scripts/run-tests.js unit     only test/unit
//   node scripts/run-tests.js e2e      only test/e2e
// Extra arguments after the suite name are passed to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [which = 'all', ...extra] = process.argv.slice(2);
const suites = which === 'all' ? ['unit', 'e2e'] : [which];

function find(dir) {
  let out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out = out.concat(find(p));
    else if (entry.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const files = suites.flatMap((s) => find(join(root, 'test', s)));
if (files.length === 0) {
  console.error(`No test files found for "${which}".`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...extra, ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, ATELIER_TEST: '1' },
});
process.exit(result.status ?? 1);
