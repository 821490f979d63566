#!/usr/bin/env node
// Runs the test suite with Node's own test runner (TypeScript through tsx).
//   node scripts/run-tests.js              unit, integration, then e2e (browser) tests
//   node scripts/run-tests.js unit         only test/unit: fast checks of one module (no training
//                                          loop, no CLI process), in one process, under a minute
//   node scripts/run-tests.js integration  only test/integration: real training, workers, CLI
//                                          processes, imports of real image sets, the service
//   node scripts/run-tests.js e2e          only test/e2e: the studio in Debian's Chromium
// Extra arguments after the suite name are passed to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [which = 'all', ...extra] = process.argv.slice(2);
const suites = which === 'all' ? ['unit', 'integration', 'e2e'] : [which];

function find(dir) {
  let out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out = out.concat(find(p));
    else if (entry.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const known = ['unit', 'integration', 'e2e'];
if (!suites.every((s) => known.includes(s))) {
  console.error(`Unknown test suite "${which}": one of ${known.join(', ')}, or nothing for all three.`);
  process.exit(1);
}

// Each tier runs in its own `node --test`, one after the other, and says how long it took; a
// failing tier does not stop the next (CI shows every failure), but the exit code is non-zero.
const timings = [];
let failed = false;
for (const suite of suites) {
  const files = find(join(root, 'test', suite));
  if (files.length === 0) {
    console.error(`No test files found in test/${suite}.`);
    process.exit(1);
  }
  const started = Date.now();
  let env = { ...process.env, ATELIER_TEST: '1' };
  let args = files;
  let concurrency = [];
  if (suite === 'unit') {
    // Unit files mostly wait on starting Node, tsx and TF.js: they share one process
    // (test/unit/in-one-process.ts imports them), except a file marked `// @own-process: why`,
    // which runs in its own beside it, one per core.
    const own = files.filter((f) => /^\/\/ @own-process:/m.test(readFileSync(f, 'utf8')));
    const shared = files.filter((f) => !own.includes(f));
    env = { ...env, ATELIER_UNIT_FILES: shared.join(delimiter) };
    args = [join(root, 'test', 'unit', 'in-one-process.ts'), ...own];
    concurrency = [`--test-concurrency=${availableParallelism()}`];
  }
  // The other tiers keep node's default (cores − 1): their workers and browsers need the spare core.
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...concurrency, '--test-reporter=spec', ...extra, ...args], {
    stdio: 'inherit',
    cwd: root,
    env,
  });
  const ok = result.status === 0;
  failed ||= !ok;
  timings.push(`${suite}: ${files.length} files, ${((Date.now() - started) / 1000).toFixed(0)} s${ok ? '' : ', FAILED'}`);
}
console.log(`[tests] ${timings.join(' · ')}`);
process.exit(failed ? 1 : 0);
