/**
 * The Electron IPC boundary, kept free of Electron so it can be tested: a call is answered only
 * when it comes from the studio's own page (our custom protocol, top frame), and then goes
 * through the same validating dispatcher as the browser mode.
 */
import type { Dispatch } from './dispatch.js';
import type { Result } from './errors.js';

/** The origin the renderer is served from under Electron (see electron/main.ts). */
export const APP_ORIGIN = 'atelier://app';

/** True for a URL of our own renderer page; false for anything else (other sites, file:, data:, subframes' foreign origins). */
export function isTrustedSenderUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

export interface SenderInfo {
  /** URL of the frame that sent the message. */
  url: string | undefined;
  /** False for a subframe: only the top frame is our renderer. */
  isMainFrame: boolean;
}

/** Wraps the dispatcher with the sender check; main.ts hands it `event.senderFrame`'s facts. */
export function createIpcHandler(dispatch: Dispatch) {
  return async (sender: SenderInfo, method: unknown, params: unknown): Promise<Result<unknown>> => {
    if (!sender.isMainFrame || !isTrustedSenderUrl(sender.url)) {
      return { ok: false, error: { code: 'forbidden', message: `Refused a request from ${sender.url ?? 'an unknown page'}: only the studio's own window may call it.` } };
    }
    return dispatch(method, params, { transport: 'ipc' });
  };
}
