/**
 * electron/main.ts, run for real with a recording stand-in for Electron (the binary cannot run
 * here): the window cannot be navigated, redirected or framed away from atelier://app; window.open
 * hands the system browser only allow-listed https links; permissions are refused when asked and
 * when checked; and the atelier:// protocol answers a malformed path with 400 instead of throwing.
 * Not covered (needs the binary): that Electron emits these events as documented, the fuses
 * flipped in a packaged app.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Recorded } from '../../fixtures/electron/fake-electron.js';
import { loadElectronMain, readyElectronMain, type LoadedMain } from '../../helpers/electron-main.js';

let main: LoadedMain;
let rec: Recorded;

// The hooks inside a describe: a top-level after() would wait for every file sharing the process.
describe('electron/main.ts with a recording Electron', () => {
  before(async () => {
    main = await loadElectronMain();
    rec = main.rec;
    await readyElectronMain(rec);
  });

  after(() => main.cleanup());

  /** A web contents as Electron hands it to 'web-contents-created': records its handlers. */
  function contents() {
    const on = new Map<string, (...a: unknown[]) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | null = null;
    const wc = {
      on: (name: string, fn: (...a: unknown[]) => void) => void on.set(name, fn),
      setWindowOpenHandler: (fn: typeof openHandler) => void (openHandler = fn),
    };
    for (const fn of rec.appHandlers.get('web-contents-created') ?? []) fn({}, wc);
    const prevented = (name: string, url: string): boolean => {
      let stopped = false;
      const event = { url, preventDefault: () => void (stopped = true) };
      on.get(name)!(event, url);
      return stopped;
    };
    return { on, open: (url: string) => openHandler!({ url }), prevented };
  }

  test('the window loads our page and cannot be navigated, redirected or framed elsewhere', () => {
    assert.equal(rec.windows[0]?.url, 'atelier://app/index.html');
    const wc = contents();
    for (const name of ['will-navigate', 'will-redirect', 'will-frame-navigate']) {
      assert.ok(wc.on.has(name), `${name} is handled`);
      assert.equal(wc.prevented(name, 'atelier://app/index.html#/train'), false, `${name}: our page`);
      for (const away of ['https://evil.example/', 'file:///etc/passwd', 'atelier://other/index.html', 'javascript:alert(1)']) {
        assert.equal(wc.prevented(name, away), true, `${name} → ${away}`);
      }
    }
  });

  test('window.open: always denied; only allow-listed https links reach the system browser', () => {
    const wc = contents();
    const tries = ['https://arxiv.org/abs/2006.06676', 'https://evil.example/', 'http://arxiv.org/abs/1', 'file:///etc/passwd', 'smb://host/share', 'https://user:pw@github.com/', 'https://github.com:8443/x', 'ms-settings:'];
    for (const url of tries) assert.deepEqual(wc.open(url), { action: 'deny' }, url);
    assert.deepEqual(rec.opened, ['https://arxiv.org/abs/2006.06676']);
  });

  test('permissions: refused when requested and when checked', () => {
    let granted: boolean | null = null;
    rec.permissionRequest!({}, 'media', (g: boolean) => (granted = g));
    assert.equal(granted, false);
    assert.ok(rec.permissionCheck, 'a permission check handler is set');
    assert.equal(rec.permissionCheck!({}, 'clipboard-read', 'atelier://app'), false);
  });

  test('the atelier:// protocol: a malformed path is a 400, a path out of the renderer a 404, the page a 200', async () => {
    const serve = rec.protocolHandlers.get('atelier')!;
    assert.equal((await serve(new Request('atelier://app/%E0%A4%A'))).status, 400);
    assert.equal((await serve(new Request('atelier://app/..%2f..%2fpackage.json'))).status, 404);
    assert.equal((await serve(new Request('atelier://elsewhere/index.html'))).status, 404);
    const page = await serve(new Request('atelier://app/'));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /GAN Atelier/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });
});
