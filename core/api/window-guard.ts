/**
 * What the studio's window may navigate to and open, kept free of Electron so it can be tested:
 * electron/main.ts wires these into `will-navigate`, `will-redirect`, `will-frame-navigate` and
 * the window-open handler. The window only ever shows our own page; links the studio shows (to
 * papers and documentation) open in the system browser, and only to the hosts listed here — a
 * compromised page cannot hand the operating system a `file:`, `smb:` or custom-scheme URL, nor
 * any site it likes.
 */
import { APP_ORIGIN } from './ipc-guard.js';

/** Hosts the studio links to, over https only. Add one here when the studio gains a link to it. */
export const EXTERNAL_LINK_HOSTS: readonly string[] = [
  'arxiv.org', // the papers behind StyleGAN2-ADA, DiffAugment, KID, FID
  'github.com', // NVlabs' reference implementations
  'www.tensorflow.org', // TensorFlow.js, for the exported models
];

/** True for a URL of our own renderer (atelier://app/…): the only place the window may go. */
export function isAppUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

/** True when `url` may be handed to the system browser: https, a listed host, no credentials, the default port. */
export function isAllowedExternalUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === 'https:' && u.username === '' && u.password === '' && u.port === '' && EXTERNAL_LINK_HOSTS.includes(u.hostname);
}
