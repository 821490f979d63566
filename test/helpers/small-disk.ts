/**
 * A small disk for the tests that need one full: a tmpfs mounted in a temp folder (root only, and
 * where the sandbox allows mounting), unmounted when the test ends. Tests skip, saying why, when
 * it cannot be mounted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** Mounts a tmpfs of `kib` KiB; its path, or the reason it could not be mounted. */
export function smallDisk(t: TestContext, kib: number): { dir: string } | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'a tmpfs needs Linux' };
  const dir = mkdtempSync(join(tmpdir(), 'atelier-small-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a ${kib} KiB tmpfs here (${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}); the injected-failure tests cover the same code` };
  }
  t.after(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir };
}

/** Fills the disk holding `dir` with `dir/filler`, leaving about `leaveKiB` KiB free. */
export function fillDisk(dir: string, leaveKiB: number): string {
  const { bavail, bsize } = statfsSync(dir);
  const bytes = Math.max(0, bavail * bsize - leaveKiB * 1024);
  const filler = join(dir, 'filler');
  writeFileSync(filler, Buffer.alloc(bytes)); // zeros written, so tmpfs allocates them
  return filler;
}
