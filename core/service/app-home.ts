/**
 * Where the studio keeps per-user state (the recent-projects list): `ATELIER_HOME` when set
 * (tests, portable installs), else the platform's usual configuration folder.
 * Electron passes `app.getPath('userData')` instead.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultAppHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.ATELIER_HOME) return env.ATELIER_HOME;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'GAN Atelier');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'GAN Atelier');
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'gan-atelier');
}
