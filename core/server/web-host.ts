/**
 * `atelier serve`: the studio in a browser. Serves the built renderer and StudioApi over a
 * WebSocket, on 127.0.0.1 only, behind a random token printed in the URL.
 *
 * - The first request carries `?token=…`; it is swapped for an HttpOnly, SameSite=Strict cookie
 *   and the token is taken out of the address bar. Every other request needs that cookie (or the
 *   token); anything else gets 403.
 * - The Host header must name this loopback address (no DNS rebinding), and a WebSocket's Origin
 *   must be this server (no cross-site socket hijacking).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WireMessage, WireRequest } from '../api/wire.js';
import { createDispatcher } from '../api/dispatch.js';
import type { StudioService } from '../service/studio-service.js';
import { SECURITY_HEADERS } from './security.js';

export const TOKEN_COOKIE = 'atelier_token';
const MAX_MESSAGE_BYTES = 1 << 20;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface WebHostOptions {
  service: StudioService;
  /** Folder with the built renderer (index.html + assets). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); random otherwise. */
  token?: string;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export async function startWebHost({ service, rendererDir, port = 0, token = randomBytes(24).toString('base64url') }: WebHostOptions): Promise<WebHost> {
  const tokenBuf = Buffer.from(token);
  const tokenMatches = (candidate: string | null | undefined): boolean => {
    if (!candidate) return false;
    const buf = Buffer.from(candidate);
    return buf.length === tokenBuf.length && timingSafeEqual(buf, tokenBuf);
  };
  let actualPort = port;
  const hostOk = (req: IncomingMessage): boolean => {
    const h = req.headers.host;
    return h === `127.0.0.1:${actualPort}` || h === `localhost:${actualPort}`;
  };
  const authorised = (req: IncomingMessage, url: URL): boolean =>
    tokenMatches(url.searchParams.get('token')) || tokenMatches(readCookie(req, TOKEN_COOKIE));

  const server: Server = createServer((req, res) => {
    void handleHttp(req, res).catch((err) => {
      console.error('[atelier] http error', err);
      if (!res.headersSent) deny(res, 500, 'Internal error.');
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!hostOk(req)) return deny(res, 403, 'Wrong Host header: open the studio at the 127.0.0.1 address printed by `atelier serve`.');
    if (!authorised(req, url)) return deny(res, 403, 'This GAN Atelier server needs its access token: open the full URL printed by `atelier serve` (it ends in ?token=…).');
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'Method not allowed.');
    if (url.searchParams.has('token')) {
      // Keep the token out of the address bar and history: move it to a cookie.
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'Set-Cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname,
        'Cache-Control': 'no-store',
      });
      return void res.end();
    }
    await serveStatic(rendererDir, url.pathname, req, res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const originOk = req.headers.origin === `http://127.0.0.1:${actualPort}` || req.headers.origin === `http://localhost:${actualPort}`;
    if (url.pathname !== '/api' || !hostOk(req) || !originOk || !authorised(req, url)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const dispatch = createDispatcher(service.handlers());
  function attach(ws: WebSocket): void {
    const send = (msg: WireMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    const unsubscribe = service.subscribe((event) => send({ kind: 'event', event }));
    ws.on('close', unsubscribe);
    ws.on('message', (data) => {
      let req: WireRequest;
      try {
        req = JSON.parse(String(data)) as WireRequest;
        if (typeof req !== 'object' || req === null || typeof req.id !== 'number') throw new Error('no id');
      } catch {
        ws.close(1003, 'Malformed request');
        return;
      }
      void dispatch(req.method, req.params, { transport: 'ws' }).then((result) => send({ kind: 'reply', id: req.id, result }));
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  actualPort = typeof address === 'object' && address ? address.port : port;

  return {
    url: `http://127.0.0.1:${actualPort}/?token=${token}`,
    port: actualPort,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function deny(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(message);
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

async function serveStatic(root: string, pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return deny(res, 400, 'Bad path.');
  }
  if (rel.includes('\0')) return deny(res, 400, 'Bad path.');
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = normalize(join(root, rel));
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) return deny(res, 404, 'Not found.');
  try {
    const st = await stat(file);
    if (!st.isFile()) return deny(res, 404, 'Not found.');
    const body = await readFile(file);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': rel === '/index.html' ? 'no-store' : 'private, max-age=3600',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    deny(res, 404, rel === '/index.html' ? `The renderer is not built (no ${file}). Run \`npm run build:renderer\`, then start the server again.` : 'Not found.');
  }
}
