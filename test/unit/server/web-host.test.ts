import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { StudioService } from '../../../core/service/studio-service.js';
import { RootedPaths } from '../../../core/service/paths.js';
import { startWebHost, TOKEN_COOKIE, type WebHost } from '../../../core/server/web-host.js';
import type { WireMessage } from '../../../core/api/wire.js';
import { tempDir } from '../../helpers/tmp.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw HTTP, so the Host header and odd paths are sent exactly as written. */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startHost(t: TestContext): Promise<{ host: WebHost; root: string }> {
  const root = tempDir(t);
  const rendererDir = join(tempDir(t), 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>GAN Atelier</title>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.txt'), 'top secret');
  const service = new StudioService({ mode: 'browser', appHome: tempDir(t), paths: new RootedPaths(root) });
  const host = await startWebHost({ service, rendererDir });
  t.after(async () => {
    await host.close();
    service.dispose();
  });
  return { host, root };
}

test('listens on 127.0.0.1 only, with a long random token', async (t) => {
  const { host } = await startHost(t);
  assert.match(host.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
});

test('no token, a wrong token or a foreign Host header: 403', async (t) => {
  const { host } = await startHost(t);
  for (const path of ['/', '/index.html', '/assets/app.js', '/?token=wrong']) {
    const r = await get(host.port, path);
    assert.equal(r.status, 403, path);
    assert.match(r.body, /needs its access token/);
  }
  const rebinding = await get(host.port, `/?token=${host.token}`, { host: `evil.example:${host.port}` });
  assert.equal(rebinding.status, 403);
  assert.match(rebinding.body, /Wrong Host header/);
});

test('the token becomes an HttpOnly SameSite=Strict cookie, then pages load with strict headers', async (t) => {
  const { host } = await startHost(t);
  const first = await get(host.port, `/?token=${host.token}`);
  assert.equal(first.status, 303);
  assert.equal(first.headers.location, '/');
  const cookie = String(first.headers['set-cookie']);
  assert.match(cookie, new RegExp(`^${TOKEN_COOKIE}=${host.token}; HttpOnly; SameSite=Strict; Path=/`));
  const page = await get(host.port, '/', { cookie: `${TOKEN_COOKIE}=${host.token}` });
  assert.equal(page.status, 200);
  assert.match(page.body, /GAN Atelier/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  const asset = await get(host.port, '/assets/app.js', { cookie: `${TOKEN_COOKIE}=${host.token}` });
  assert.equal(asset.status, 200);
  assert.match(String(asset.headers['content-type']), /javascript/);
});

test('static files cannot escape the renderer folder', async (t) => {
  const { host } = await startHost(t);
  const cookie = `${TOKEN_COOKIE}=${host.token}`;
  for (const path of ['/../secret.txt', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd', '/%00']) {
    const r = await get(host.port, path, { cookie });
    assert.ok(r.status === 404 || r.status === 400, `${path} → ${r.status}`);
    assert.doesNotMatch(r.body, /root:|top secret/);
  }
});

function connect(host: WebHost, opts: { origin?: string; cookie?: boolean }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.cookie = `${TOKEN_COOKIE}=${host.token}`;
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api`, { origin: opts.origin ?? `http://127.0.0.1:${host.port}`, headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

test('the API socket refuses no token and foreign origins, and answers with the token', async (t) => {
  const { host, root } = await startHost(t);
  await assert.rejects(connect(host, {}), /403/);
  await assert.rejects(connect(host, { cookie: true, origin: 'https://evil.example' }), /403/);
  const ws = await connect(host, { cookie: true });
  t.after(() => ws.close());
  const messages: WireMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as WireMessage));
  const waitFor = async (pred: (m: WireMessage) => boolean) => {
    for (let i = 0; i < 200 && !messages.some(pred); i++) await new Promise((r) => setTimeout(r, 10));
    return messages.find(pred);
  };
  ws.send(JSON.stringify({ id: 1, method: 'project.create', params: { path: join(root, 'ws-made') } }));
  const reply = await waitFor((m) => m.kind === 'reply' && m.id === 1);
  assert.ok(reply && reply.kind === 'reply' && reply.result.ok, JSON.stringify(reply));
  const event = await waitFor((m) => m.kind === 'event' && m.event.type === 'project.changed');
  assert.ok(event, 'the project.changed event is pushed');
  ws.send(JSON.stringify({ id: 2, method: 'project.open', params: { path: 5 } }));
  const bad = await waitFor((m) => m.kind === 'reply' && m.id === 2);
  assert.ok(bad && bad.kind === 'reply' && !bad.result.ok && bad.result.error.code === 'invalid-request');
});
