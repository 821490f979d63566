/**
 * `atelier train` on real emoji: JSON lines while it trains; Ctrl+C (SIGINT) pauses with a
 * checkpoint and exits 0 saying how to resume; `--resume` continues from that step and finishes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../helpers/tmp.js';
import { EMOJI_DIR } from '../../unit/train/helpers.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/atelier.js');

type Line = Record<string, unknown> & { type: string };

/** Runs the CLI, calling `onLine` with each JSON line as it comes; resolves with the exit code and all lines. */
function atelier(args: string[], onLine: (l: Line, child: ReturnType<typeof spawn>) => void = () => {}): Promise<{ code: number | null; lines: Line[]; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let buf = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = JSON.parse(buf.slice(0, i)) as Line;
      buf = buf.slice(i + 1);
      lines.push(l);
      onLine(l, child);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, lines, err })));
}

test('atelier train --json: Ctrl+C pauses with a checkpoint, --resume finishes', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'emoji');
  mkdirSync(src);
  for (const f of readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, 32)) copyFileSync(join(EMOJI_DIR, f), join(src, f));
  const project = join(dir, 'p.atelier');
  assert.equal(spawnSync(process.execPath, [BIN, 'new', project], { cwd: ROOT }).status, 0);
  const imported = spawnSync(process.execPath, [BIN, 'import', project, src, '--resolution', '16', '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(imported.status, 0, imported.stderr);

  // Train 100 steps of 4 (a tick every 25); Ctrl+C at the first tick, so steps were done and many remain
  // (a fixed delay raced the run on a fast machine: it could finish before the signal).
  let interrupted = false;
  const first = await atelier(['train', project, '--preset', 'baseline', '--kimg', '0.4', '--batch', '4', '--seed', '1', '--backend', 'wasm', '--json'], (l, child) => {
    if (l.type === 'tick' && !interrupted) {
      interrupted = true;
      child.kill('SIGINT');
      // `timeout -s INT` signals the process, then its group: the same press, twice.
      setTimeout(() => child.kill('SIGINT'), 50);
    }
  });
  assert.equal(first.code, 0, first.err);
  const types = first.lines.map((l) => l.type);
  assert.deepEqual(types.slice(0, 4), ['started', 'phase', 'phase', 'phase']);
  const end = first.lines.at(-1)!;
  assert.equal(end.type, 'end');
  assert.equal(end.status, 'paused');
  const runId = end.runId as number;
  assert.equal(end.resume, `atelier train ${project} --resume ${runId}`);
  const checkpoint = first.lines.find((l) => l.type === 'checkpoint');
  assert.ok(checkpoint && (checkpoint.step as number) >= 1, 'the pause saved a checkpoint');
  assert.equal(end.step, checkpoint.step);

  // Resume: from the checkpoint's step to the end (100 steps of 4).
  const second = await atelier(['train', project, '--resume', String(runId), '--json']);
  assert.equal(second.code, 0, second.err);
  const resumed = second.lines.find((l) => l.type === 'phase' && l.phase === 'training')!;
  assert.equal(resumed.step, checkpoint.step, 'continues at the paused step');
  const ticks = second.lines.filter((l) => l.type === 'tick');
  assert.ok(ticks.length >= 1);
  for (const tick of ticks) for (const name of ['Loss/G', 'Loss/D', 'D/logit/real', 'r_t', 'img_s']) assert.ok(name in (tick.stats as object), name);
  const last = second.lines.at(-1)!;
  assert.deepEqual([last.type, last.status, last.kimg, last.step], ['end', 'done', 0.4, 100]);
  assert.ok(!('resume' in last));
});
