#!/usr/bin/env node
// Fails when relative imports between the project's TypeScript/Svelte files form a cycle.
// (Type-only imports count too: a cycle in types is still a knot in the design.)
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = ['core', 'electron', 'renderer/src'];
const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(p);
    return /\.(ts|svelte)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function resolveImport(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && /\.(ts|svelte)$/.test(c));
}

const files = dirs.flatMap((d) => walk(join(root, d)));
const graph = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of src.matchAll(importRe)) {
    const target = resolveImport(f, m[1] ?? m[2]);
    if (target) deps.add(target);
  }
  graph.set(f, deps);
}

const state = new Map(); // 1 visiting, 2 done
const cycles = [];
function visit(node, stack) {
  state.set(node, 1);
  stack.push(node);
  for (const dep of graph.get(node) ?? []) {
    if (state.get(dep) === 1) cycles.push([...stack.slice(stack.indexOf(dep)), dep].map((p) => relative(root, p)).join(' → '));
    else if (!state.has(dep)) visit(dep, stack);
  }
  stack.pop();
  state.set(node, 2);
}
for (const f of files) if (!state.has(f)) visit(f, []);

if (cycles.length) {
  console.error(`Import cycles (${cycles.length}):\n  ${cycles.join('\n  ')}`);
  process.exit(1);
}
console.log(`No import cycles among ${files.length} files.`);
