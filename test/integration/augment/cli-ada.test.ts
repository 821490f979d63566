/**
 * `atelier train --preset ada` on real emoji: the augmentation options reach the run (a fixed p is
 * reported as Augment/p in every tick, beside r_t), and bad options are refused with the option named.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../helpers/tmp.js';
import { EMOJI_DIR } from '../../unit/train/helpers.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/atelier.js');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });

test('atelier train --preset ada --augpipe --p: ticks report Augment/p and r_t; bad options are named', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'emoji');
  mkdirSync(src);
  for (const f of readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, 16)) copyFileSync(join(EMOJI_DIR, f), join(src, f));
  const project = join(dir, 'p.atelier');
  assert.equal(cli(['new', project]).status, 0);
  assert.equal(cli(['import', project, src, '--resolution', '16', '--json']).status, 0);

  const run = cli(['train', project, '--preset', 'ada', '--augpipe', 'bgcfnc', '--p', '0.5', '--kimg', '0.016', '--batch', '4', '--backend', 'wasm', '--json']);
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]!.preset, 'ada');
  const ticks = lines.filter((l) => l.type === 'tick');
  assert.ok(ticks.length >= 1);
  for (const tick of ticks) {
    const stats = tick.stats as Record<string, number>;
    assert.equal(stats['Augment/p'], 0.5);
    assert.ok(Number.isFinite(stats['r_t']));
  }
  assert.deepEqual([lines.at(-1)!.type, lines.at(-1)!.status], ['end', 'done']);

  const bad = (args: string[], message: RegExp) => {
    const r = cli(['train', project, '--kimg', '0.016', ...args]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, message);
  };
  bad(['--preset', 'ada', '--augpipe', 'bgcx'], /--augpipe: Use an ADA pipeline \(blit, .*bgcfnc\) or diffaugment/);
  bad(['--preset', 'ada', '--target', '0'], /--target: The overfitting target \(r_t\) must be above 0\./);
  bad(['--preset', 'ada', '--p', 'lots'], /--p must be a number, not "lots"/);
  bad(['--preset', 'baseline', '--target', '0.5'], /trains without augmentation, so augTarget cannot apply\. Pick the ADA preset/);
});
