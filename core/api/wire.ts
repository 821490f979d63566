/** What crosses a transport: WebSocket frames (browser mode) and IPC channel names (Electron). */
import type { StudioEvent } from './contract.js';
import type { Result } from './errors.js';

export { IPC_EVENT, IPC_INVOKE } from './channels.js';

/** A WebSocket request frame. */
export interface WireRequest {
  id: number;
  method: string;
  params: unknown;
}
/** A WebSocket frame from the server: a reply to a request, or an event. */
export type WireMessage =
  | { kind: 'reply'; id: number; result: Result<unknown> }
  | { kind: 'event'; event: StudioEvent };
