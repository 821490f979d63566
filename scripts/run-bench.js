#!/usr/bin/env node
// `npm run bench [-- name… [--option value…]]`: runs bench/<name>.ts (all of them by default), one
// after another, passing the options on (e.g. `npm run bench -- ada-ablation --size 16 --kimg 20`).
// Each benchmark prints one JSON document to stdout; this collects them into one JSON object.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const all = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('-'));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
const options = firstOption < 0 ? [] : args.slice(firstOption);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  console.error(`No benchmark named ${unknown.join(', ')}. Available: ${all.join(', ')}.`);
  process.exit(2);
}
const results = {};
for (const name of wanted.length ? wanted : all) {
  console.error(`[bench] ${name}…`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', `${name}.ts`), ...options], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    results[name] = { error: `exited with ${r.status}` };
    continue;
  }
  try {
    results[name] = JSON.parse(r.stdout);
  } catch {
    results[name] = { error: 'did not print one JSON document', output: r.stdout.slice(0, 2000) };
  }
}
console.log(JSON.stringify(results, null, 2));
