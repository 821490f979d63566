#!/usr/bin/env node
// Fails when relative imports between the project's TypeScript/Svelte files form a cycle, or when
// a core/ folder imports one on its own layer or above (scripts/layers.js).
// (Type-only imports count too: a cycle in types is still a knot in the design.)
//   node scripts/check-cycles.js [--root DIR]    DIR defaults to the repository
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYER_OF } from './layers.js';

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

/** The import graph of core/, electron/ and renderer/src under `root`: file → files it imports. */
export function importGraph(root) {
  const files = ['core', 'electron', 'renderer/src'].flatMap((d) => walk(join(root, d)));
  const graph = new Map();
  for (const f of files) {
    const deps = new Set();
    for (const m of readFileSync(f, 'utf8').matchAll(importRe)) {
      const target = resolveImport(f, m[1] ?? m[2]);
      if (target) deps.add(target);
    }
    graph.set(f, deps);
  }
  return graph;
}

export function findCycles(root, graph) {
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
  for (const f of graph.keys()) if (!state.has(f)) visit(f, []);
  return cycles;
}

/** The core/ folder a file is in, or null outside core/ (or a file directly in core/). */
function coreFolder(root, file) {
  const parts = relative(join(root, 'core'), file).split(sep);
  return parts.length >= 2 && parts[0] !== '..' ? parts[0] : null;
}

/** Imports that break the layer rule, each as one sentence naming the rule. */
export function findLayerViolations(root, graph) {
  const problems = [];
  const unknown = new Set();
  for (const [file, deps] of graph) {
    const from = coreFolder(root, file);
    if (from === null) continue;
    if (!LAYER_OF.has(from)) unknown.add(from);
    for (const dep of deps) {
      const to = coreFolder(root, dep);
      if (to === null || to === from) continue;
      if (!LAYER_OF.has(to)) unknown.add(to);
      const a = LAYER_OF.get(from);
      const b = LAYER_OF.get(to);
      if (a === undefined || b === undefined || b < a) continue;
      const where = b === a ? `its own layer (${a})` : `a higher layer (${b} > ${a})`;
      problems.push(
        `${relative(root, file)} imports ${relative(root, dep)}: core/${from} may import only folders below its layer, and core/${to} is on ${where}. ` +
          'Move the shared piece down a layer, or pass it in from above (scripts/layers.js).',
      );
    }
  }
  for (const f of unknown) problems.push(`core/${f} is not in the layer table: add it to scripts/layers.js (and docs/ARCHITECTURE.md) on the layer it belongs to.`);
  return problems;
}

function main() {
  const at = process.argv.indexOf('--root');
  const root = at > 0 ? resolve(process.argv[at + 1]) : fileURLToPath(new URL('..', import.meta.url));
  const graph = importGraph(root);
  const cycles = findCycles(root, graph);
  const layers = findLayerViolations(root, graph);
  if (cycles.length) console.error(`Import cycles (${cycles.length}):\n  ${cycles.join('\n  ')}`);
  if (layers.length) console.error(`Imports against the folder layers (${layers.length}):\n  ${layers.join('\n  ')}`);
  if (cycles.length || layers.length) process.exit(1);
  console.log(`No import cycles among ${graph.size} files; every core/ folder imports only layers below it.`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
