/** The studio's version, from package.json (one source of truth; bundlers inline it). */
import pkg from '../../package.json' with { type: 'json' };

export const APP_VERSION: string = pkg.version;
