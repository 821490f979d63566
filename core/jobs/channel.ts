/**
 * The worker's end of its channel to the service. Forked by child_process (the CLI, the browser
 * mode, tests, and the desktop app unless it installs another spawner), a worker talks over
 * Node's IPC: `process.send`, `process.on('message')`, 'disconnect' when the service goes away.
 * Started by Electron's `utilityProcess.fork`, it has `process.parentPort` instead:
 * `parentPort.on('message', (e) => e.data)` and `parentPort.postMessage`, and no disconnect of
 * its own — the service says so with CLOSE_MESSAGE (and Electron ends a utility process whose
 * parent is gone). Worker entries see only this interface.
 */

/** Sent by the service to a worker whose transport has no disconnect (a utility process): "your service is gone". */
export const CLOSE_MESSAGE = { type: 'atelier:close-channel' } as const;

export function isCloseMessage(msg: unknown): boolean {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === CLOSE_MESSAGE.type;
}

export interface ParentChannel<In, Out> {
  readonly transport: 'ipc' | 'parent-port';
  /** False once the service went away or the worker let go. */
  readonly connected: boolean;
  /** Sends if still connected; `then` runs once the message is handed over (or could not be). Never throws. */
  send(msg: Out, then?: () => void): void;
  onMessage(listener: (msg: In) => void): void;
  /** The service went away (or closed the channel): save and leave. */
  onDisconnect(listener: () => void): void;
  /** Lets go of the channel, so the process can end. */
  close(): void;
}

/** What Electron's `process.parentPort` offers (structurally: core/ does not import Electron). */
export interface ParentPortLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
  removeAllListeners(event?: string): unknown;
}

/** The parts of `process` a channel uses. */
export interface ProcessLike {
  parentPort?: ParentPortLike | null;
  send?: (message: unknown, sendHandle?: undefined, options?: object, callback?: (error: Error | null) => void) => boolean;
  connected?: boolean;
  disconnect?: () => void;
  on(event: 'message', listener: (msg: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/** The channel to this process's parent, or null when it has none (started by hand). */
export function parentChannel<In, Out>(proc: ProcessLike = process as unknown as ProcessLike): ParentChannel<In, Out> | null {
  if (proc.parentPort) return portChannel(proc.parentPort);
  if (proc.send) return ipcChannel(proc);
  return null;
}

function ipcChannel<In, Out>(proc: ProcessLike): ParentChannel<In, Out> {
  return {
    transport: 'ipc',
    get connected() {
      return proc.connected === true;
    },
    send(msg, then) {
      // With a callback, a send that fails because the service just died reports to it instead
      // of throwing: the worker still gets to save and exit.
      if (proc.connected) proc.send!(msg, undefined, {}, () => then?.());
      else then?.();
    },
    onMessage: (listener) => void proc.on('message', (msg) => listener(msg as In)),
    onDisconnect: (listener) => void proc.on('disconnect', listener),
    close() {
      if (proc.connected) proc.disconnect?.();
    },
  };
}

function portChannel<In, Out>(port: ParentPortLike): ParentChannel<In, Out> {
  let open = true;
  const onClose = new Set<() => void>();
  const onMessage = new Set<(msg: In) => void>();
  // Messages that arrive before the worker listens wait here (the entry may listen a turn late).
  const held: In[] = [];
  port.on('message', (e) => {
    if (isCloseMessage(e.data)) {
      if (!open) return;
      open = false;
      for (const l of onClose) l();
    } else if (onMessage.size === 0) held.push(e.data as In);
    else for (const l of onMessage) l(e.data as In);
  });
  return {
    transport: 'parent-port',
    get connected() {
      return open;
    },
    send(msg, then) {
      if (open) port.postMessage(msg);
      // postMessage queues at once; what follows (a disconnect, an exit) waits a turn so it goes out first.
      if (then) setImmediate(then);
    },
    onMessage(listener) {
      onMessage.add(listener);
      for (const msg of held.splice(0)) listener(msg);
    },
    onDisconnect: (listener) => void onClose.add(listener),
    close() {
      open = false;
      port.removeAllListeners('message');
    },
  };
}
