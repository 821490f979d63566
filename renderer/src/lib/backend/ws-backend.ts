/**
 * IBackend over a WebSocket to the browser-mode host (`atelier serve`), same origin, path /api.
 * The token cookie set on the first page load authorises the socket; nothing is sent in the URL.
 *
 * Requests carry ids and wait in a pending map for their reply. When the socket drops, pending
 * calls fail with a "connection lost" error (the service may or may not have run them), the state
 * turns `lost`, and the backend reconnects with a growing delay until the server is back.
 */
import type { Method, Params, ResultOf, StudioEvent } from '../../../../core/api/contract.js';
import type { WireMessage, WireRequest } from '../../../../core/api/wire.js';
import type { Result } from '../../../../core/api/errors.js';
import { connectionLost, type ConnectionListener, type ConnectionStatus, type EventListener, type IBackend } from './backend.js';

/** Delays between reconnection attempts, in ms; the last one repeats. */
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

export interface WsBackendOptions {
  /** Where the socket connects; default: ws(s)://<this page's host>/api. */
  url?: string;
}

export class WsBackend implements IBackend {
  readonly transport = 'ws';
  private readonly url: string;
  private socket: WebSocket | null = null;
  private nextId = 1;
  /** Sent requests waiting for their reply. */
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  /** Frames written before the first connection opened. */
  private readonly outbox: string[] = [];
  private readonly eventListeners = new Set<EventListener>();
  private readonly connectionListeners = new Set<ConnectionListener>();
  private status: ConnectionStatus = { state: 'connecting', attempts: 0, nextRetryAt: null };
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: WsBackendOptions = {}) {
    this.url = options.url ?? defaultSocketUrl(window.location);
    this.connect();
  }

  get connection(): ConnectionStatus {
    return this.status;
  }

  call<M extends Method>(method: M, params: Params<M>): Promise<Result<ResultOf<M>>> {
    if (this.status.state === 'lost') {
      return Promise.resolve(connectionLost(`The connection to the studio server is lost, so "${method}" was not sent.`));
    }
    const id = this.nextId++;
    const frame = JSON.stringify({ id, method, params } satisfies WireRequest);
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (result: Result<unknown>) => void);
      if (this.status.state === 'open' && this.socket) this.socket.send(frame);
      else this.outbox.push(frame);
    });
  }

  subscribe(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onConnection(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  reconnectNow(): void {
    if (this.status.state !== 'lost' || this.socket) return;
    this.clearRetry();
    this.connect();
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    for (const l of this.connectionListeners) l(status);
  }

  private connect(): void {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.setStatus({ state: 'open', attempts: 0, nextRetryAt: null });
      for (const frame of this.outbox.splice(0)) socket.send(frame);
    });
    socket.addEventListener('message', (msg) => this.receive(msg.data));
    // 'close' follows every 'error', so it alone decides what happens next.
    socket.addEventListener('close', () => this.dropped(socket));
  }

  private receive(data: unknown): void {
    let msg: WireMessage;
    try {
      msg = JSON.parse(String(data)) as WireMessage;
    } catch {
      return; // Not ours: the host only sends JSON frames.
    }
    if (msg.kind === 'reply') {
      const resolve = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      resolve?.(msg.result);
    } else if (msg.kind === 'event') {
      this.emit(msg.event);
    }
  }

  private emit(event: StudioEvent): void {
    for (const l of this.eventListeners) l(event);
  }

  private dropped(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    const failed = connectionLost('The connection to the studio server was lost before it answered.');
    for (const resolve of this.pending.values()) resolve(failed);
    this.pending.clear();
    this.outbox.length = 0;
    const attempts = this.status.state === 'lost' ? this.status.attempts + 1 : 0;
    const delay = BACKOFF_MS[Math.min(attempts, BACKOFF_MS.length - 1)] ?? 15000;
    this.setStatus({ state: 'lost', attempts, nextRetryAt: Date.now() + delay });
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

export function defaultSocketUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api`;
}
