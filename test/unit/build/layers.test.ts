// The lint rule of the folder layers (scripts/layers.js, scripts/check-cycles.js): it fails on an
// import that runs up a layer or across one, names the rule, and passes the repository itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';

const root = new URL('../../../', import.meta.url).pathname;
const checker = join(root, 'scripts', 'check-cycles.js');

function tree(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

function check(dir?: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [checker, ...(dir ? ['--root', dir] : [])], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('an import from a lower layer up to a higher one fails lint, naming the rule and both files', (t) => {
  const dir = tempDir(t);
  tree(dir, {
    'core/store/runs.ts': "import type { X } from '../service/training.js';\nexport type Y = X;\n",
    'core/service/training.ts': 'export type X = number;\n',
  });
  const r = check(dir);
  assert.equal(r.status, 1);
  assert.match(r.out, /core\/store\/runs\.ts imports core\/service\/training\.ts/);
  assert.match(r.out, /core\/store may import only folders below its layer/);
  assert.match(r.out, /higher layer \(10 > 1\)/);
});

test('an import across one layer (two folders on the same layer) fails too', (t) => {
  const dir = tempDir(t);
  tree(dir, {
    'core/nets/layers.ts': "import { pipe } from '../augment/pipeline.js';\nexport const x = pipe;\n",
    'core/augment/pipeline.ts': 'export const pipe = 1;\n',
  });
  const r = check(dir);
  assert.equal(r.status, 1);
  assert.match(r.out, /core\/augment is on its own layer \(4\)/);
});

test('a folder missing from the layer table is named', (t) => {
  const dir = tempDir(t);
  tree(dir, { 'core/newthing/a.ts': "import { b } from '../api/b.js';\nexport const a = b;\n", 'core/api/b.ts': 'export const b = 1;\n' });
  const r = check(dir);
  assert.equal(r.status, 1);
  assert.match(r.out, /core\/newthing is not in the layer table/);
});

test('imports that point down, and a file cycle, are told apart', (t) => {
  const dir = tempDir(t);
  tree(dir, {
    'core/service/a.ts': "import { b } from '../store/b.js';\nexport const a = b;\n",
    'core/store/b.ts': 'export const b = 1;\n',
  });
  assert.equal(check(dir).status, 0);
  tree(dir, { 'core/store/b.ts': "import { c } from './c.js';\nexport const b = c;\n", 'core/store/c.ts': "import { b } from './b.js';\nexport const c = b;\n" });
  const r = check(dir);
  assert.equal(r.status, 1);
  assert.match(r.out, /Import cycles \(1\)/);
});

test('the repository itself keeps its layers', () => {
  const r = check();
  assert.equal(r.status, 0, r.out);
});

test('the layer table in docs/ARCHITECTURE.md is the one lint enforces', async () => {
  const { readFileSync } = await import('node:fs');
  const { LAYERS } = await import('../../../scripts/layers.js');
  const doc = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| (\d+) \| ((?:`[a-z]+`(?:, )?)+) \|/gm)].map((m) => ({ layer: Number(m[1]), folders: [...m[2]!.matchAll(/`([a-z]+)`/g)].map((f) => f[1]!) }));
  assert.deepEqual(rows, LAYERS.map(({ layer, folders }) => ({ layer, folders })));
});
