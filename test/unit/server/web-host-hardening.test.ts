/**
 * What a hostile but authenticated browser client can send `atelier serve`: a frame over the
 * 1 MiB limit, a text frame that is not UTF-8, a request whose id JSON cannot write back. Each
 * closes that one socket with the matching close code; the server answers the next client. And
 * the token cookie is named for its port, so another server on 127.0.0.1 cannot pass for it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { StudioService } from '../../../core/service/studio-service.js';
import { RootedPaths } from '../../../core/service/paths.js';
import { startWebHost, type WebHost } from '../../../core/server/web-host.js';
import type { WireMessage } from '../../../core/api/wire.js';
import { tempDir } from '../../helpers/tmp.js';

async function startHost(t: TestContext): Promise<WebHost> {
  const rendererDir = join(tempDir(t), 'renderer');
  mkdirSync(rendererDir, { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>GAN Atelier</title>');
  const service = new StudioService({ mode: 'browser', appHome: tempDir(t), paths: new RootedPaths(tempDir(t)) });
  const host = await startWebHost({ service, rendererDir });
  t.after(async () => {
    await host.close();
    await service.dispose();
  });
  return host;
}

/** An authenticated socket (the token in the URL, as the first page load has it). */
function connect(host: WebHost): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`, { origin: `http://127.0.0.1:${host.port}` });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends raw text (or bytes as a text frame); resolves with the first reply or the close code. */
function exchange(ws: WebSocket, payload: string | Buffer): Promise<{ reply?: WireMessage; close?: number }> {
  return new Promise((resolve) => {
    ws.on('error', () => {}); // the server's close may race our next write: not this test's concern
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as WireMessage;
      if (m.kind === 'reply') resolve({ reply: m });
    });
    ws.once('close', (code) => resolve({ close: code }));
    ws.send(payload, { binary: false });
  });
}

async function stillAnswers(host: WebHost): Promise<void> {
  const ws = await connect(host);
  try {
    const { reply } = await exchange(ws, JSON.stringify({ id: 7, method: 'app.info', params: {} }));
    assert.ok(reply && reply.kind === 'reply' && reply.id === 7 && reply.result.ok, `a new client is answered: ${JSON.stringify(reply)}`);
  } finally {
    ws.close();
  }
}

test('a frame over 1 MiB closes that socket with 1009; the server answers the next client', async (t) => {
  const host = await startHost(t);
  const bystander = await connect(host);
  t.after(() => bystander.close());
  const ws = await connect(host);
  const { close } = await exchange(ws, 'x'.repeat((1 << 20) + 1));
  assert.equal(close, 1009, 'message too big');
  assert.equal(bystander.readyState, WebSocket.OPEN, 'other sockets stay open');
  await stillAnswers(host);
});

test('a text frame that is not UTF-8 closes that socket with 1007; the server answers the next client', async (t) => {
  const host = await startHost(t);
  const ws = await connect(host);
  const { close } = await exchange(ws, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])); // {"\xff\xfe"}
  assert.equal(close, 1007, 'invalid frame payload data');
  await stillAnswers(host);
});

test('a request id JSON cannot write back (1e400) is refused, not answered with id null', async (t) => {
  const host = await startHost(t);
  const ws = await connect(host);
  const { reply, close } = await exchange(ws, '{"id":1e400,"method":"app.info","params":{}}');
  assert.equal(reply, undefined, `no reply: ${JSON.stringify(reply)}`);
  assert.equal(close, 1003, 'malformed request');
  await stillAnswers(host);
});

/** Raw HTTP, so the cookie header is sent exactly as written. */
function get(port: number, path: string, cookie?: string): Promise<{ status: number; setCookie: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${port}` };
    if (cookie) headers.cookie = cookie;
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: String(res.headers['set-cookie'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the token cookie is named for the port: a cookie set by a server on another port is not ours', async (t) => {
  const host = await startHost(t);
  const first = await get(host.port, `/?token=${host.token}`);
  assert.match(first.setCookie, new RegExp(`^atelier_token_${host.port}=${host.token}; HttpOnly; SameSite=Strict; Path=/`));
  assert.equal((await get(host.port, '/', `atelier_token_${host.port}=${host.token}`)).status, 200);
  // The same token under another port's name (or the old unscoped name) is someone else's cookie.
  assert.equal((await get(host.port, '/', `atelier_token_${host.port + 1}=${host.token}`)).status, 403);
  assert.equal((await get(host.port, '/', `atelier_token=${host.token}`)).status, 403);
});

test('a malformed percent-encoding in a static path is a 400, not a thrown error', async (t) => {
  const host = await startHost(t);
  const cookie = `atelier_token_${host.port}=${host.token}`;
  for (const path of ['/%E0%A4%A', '/assets/%', '/%zz']) assert.equal((await get(host.port, path, cookie)).status, 400, path);
  assert.equal((await get(host.port, '/', cookie)).status, 200, 'and the server goes on');
});
