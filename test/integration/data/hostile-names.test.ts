/**
 * Names and links a folder can hold: file names that are not UTF-8 (imported, and named with
 * `\xHH` escapes), symbolic links out of the browser mode's root (not followed; the desktop and
 * the CLI, which have no root, still follow them), and a dangling link (said to be one).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportReport } from '../../../core/api/contract.js';
import { createDispatcher } from '../../../core/api/dispatch.js';
import { RootedPaths } from '../../../core/service/paths.js';
import { StudioService } from '../../../core/service/studio-service.js';
import { EMOJI_DIR, newProject, runImport, storedImages, tempDir } from '../../helpers/data.js';

const emoji = (code: string): string => join(EMOJI_DIR, `${code}.png`);

test('file names that are not UTF-8 are imported, and named with \\xHH escapes', async (t) => {
  const p = newProject(t);
  const src = join(p.dir, 'src');
  mkdirSync(src);
  // Latin-1 "café" and two bytes that are UTF-8 nowhere, as a Linux file system stores them.
  const names = [Buffer.from('caf\xe9.png', 'latin1'), Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0xfe]), Buffer.from('name.png')])];
  copyFileSync(emoji('1f600'), Buffer.concat([Buffer.from(`${src}/`), names[0]!]));
  copyFileSync(emoji('1f431'), Buffer.concat([Buffer.from(`${src}/`), names[1]!]));
  copyFileSync(emoji('1f436'), join(src, 'plain.png'));

  const report = await runImport(p, [src], { resolution: 32 });
  assert.deepEqual(report.skipped, [], 'none skipped as "moved or deleted"');
  assert.equal(report.imported, 3);
  const shown = storedImages(p).map((r) => r.source_path).sort();
  assert.deepEqual(shown, [join(src, 'bad\\xff\\xfename.png'), join(src, 'caf\\xe9.png'), join(src, 'plain.png')]);
  assert.ok(shown.every((s) => !s.includes('\ufffd')), 'no replacement characters');
});

/** A browser-mode service whose root holds `src` (one image and links), with images outside the root. */
function linkedFolders(t: TestContext): { root: string; src: string; outside: string } {
  const top = tempDir(t);
  const root = join(top, 'served');
  const outside = join(top, 'private');
  const src = join(root, 'src');
  mkdirSync(src, { recursive: true });
  mkdirSync(join(outside, 'album'), { recursive: true });
  copyFileSync(emoji('1f600'), join(src, 'inside.png'));
  copyFileSync(emoji('1f431'), join(outside, 'secret.png'));
  copyFileSync(emoji('1f436'), join(outside, 'album', 'holiday.png'));
  symlinkSync(join(outside, 'secret.png'), join(src, 'secret-link.png'));
  symlinkSync(join(outside, 'album'), join(src, 'album-link'));
  symlinkSync('/etc/passwd', join(src, 'passwd.png'));
  symlinkSync(join(root, 'src', 'inside.png'), join(src, 'same-root-link.png')); // inside the root: followed
  return { root, src, outside };
}

test('browser mode: links inside a picked folder are not followed out of the root', async (t) => {
  const { root, src, outside } = linkedFolders(t);
  const service = new StudioService({ mode: 'browser', appHome: tempDir(t), paths: new RootedPaths(root) });
  t.after(() => service.dispose());
  const call = createDispatcher(service.handlers(), { log: () => undefined });
  const ctx = { transport: 'ws' as const };
  assert.ok((await call('project.create', { path: join(root, 'p') }, ctx)).ok);
  const finished = new Promise<ImportReport>((resolve) => service.subscribe((e) => e.type === 'import.finished' && resolve(e.report)));
  const started = await call('dataset.import', { sources: [src], settings: { resolution: 32 }, nearThreshold: -1 }, ctx);
  assert.ok(started.ok, JSON.stringify(started));
  const report = await finished;

  const byFile = Object.fromEntries(report.skipped.map((s) => [s.file, s.reason]));
  for (const link of ['secret-link.png', 'album-link', 'passwd.png']) {
    assert.match(byFile[join(src, link)] ?? '', /outside the folder this server offers/, link);
  }
  assert.equal(report.imported, 1, 'only the image inside the root');
  assert.equal(report.duplicates, 1, 'the link inside the root is followed (a duplicate of the image it names)');
  const sources = service.current!.db.prepare('SELECT source_path FROM images').all() as Array<{ source_path: string }>;
  assert.ok(sources.every((s) => !s.source_path.includes(outside) && !s.source_path.includes('secret')), JSON.stringify(sources));

  // dataset.suggest reads a sample of the files: it is confined the same way.
  const suggested = await call('dataset.suggest', { sources: [src] }, ctx);
  assert.ok(suggested.ok);
  assert.equal((suggested.value as { sampled: number }).sampled, 2, 'inside.png and the link to it; nothing through the links out');
});

test('desktop and CLI (no root): links are followed as before', async (t) => {
  const { src } = linkedFolders(t);
  const p = newProject(t);
  const report = await runImport(p, [src], { resolution: 32 }, { nearThreshold: -1 });
  assert.equal(report.imported, 3, 'inside, secret (through its link) and holiday (through the folder link)');
  assert.match(report.skipped.find((s) => s.file.endsWith('passwd.png'))?.reason ?? '', /Not an image/);
});

test('a dangling symbolic link is reported as one, not as "moved or deleted"', async (t) => {
  const p = newProject(t);
  const src = join(p.dir, 'src');
  mkdirSync(src);
  copyFileSync(emoji('1f600'), join(src, 'ok.png'));
  symlinkSync(join(p.dir, 'no-such.png'), join(src, 'gone.png'));
  const report = await runImport(p, [src, join(src, 'gone.png')], { resolution: 32 });
  assert.equal(report.imported, 1);
  assert.equal(report.skipped.length, 2, 'inside the folder and given directly');
  for (const s of report.skipped) {
    assert.equal(s.file, join(src, 'gone.png'));
    assert.match(s.reason, new RegExp(`symbolic link to ${join(p.dir, 'no-such.png')}, which does not exist`));
    assert.doesNotMatch(s.reason, /moved or deleted/);
  }
});
