/** How numbers, sizes, dates and paths read in the UI. */

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → "1.5 KB" (powers of 1024, as file managers show). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return plural(Math.max(0, Math.round(bytes || 0)), 'byte');
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** An ISO time as a local date and time; the raw text when it does not parse. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || 'unknown';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** The separator the server's paths use ("\" on Windows, "/" elsewhere). */
export function pathSeparator(path: string): '/' | '\\' {
  return /^[A-Za-z]:\\|^\\\\/.test(path) || (path.includes('\\') && !path.includes('/')) ? '\\' : '/';
}

/** A file name in a folder, in the folder's own path style. */
export function joinPath(dir: string, name: string): string {
  const sep = pathSeparator(dir);
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
}

/** The last segment of a path. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

export const PROJECT_EXTENSION = '.atelier';

/** "My cats" → "My cats.atelier"; keeps a name that already ends in .atelier. */
export function projectFileName(name: string): string {
  return fileNameWithExtension(name, PROJECT_EXTENSION);
}

/** "My cats", ".zip" → "My cats.zip": printable, without characters file systems refuse, with the extension once. */
export function fileNameWithExtension(name: string, extension: string): string {
  const printable = [...name.trim()].filter((ch) => ch.charCodeAt(0) >= 0x20).join('');
  const clean = printable.replace(/[\\/:*?"<>|]+/g, '-'); // characters some file systems refuse
  if (!clean) return '';
  return clean.toLowerCase().endsWith(extension.toLowerCase()) ? clean : `${clean}${extension}`;
}

/** Why a file name cannot be used, or null when it can. */
export function fileNameProblem(name: string): string | null {
  const n = name.trim();
  if (!n) return 'Type a file name.';
  if (/[\\/]/.test(n)) return 'A file name cannot contain / or \\. Pick the folder in the list above instead.';
  if (n === '.' || n === '..' || n.startsWith('.')) return 'A file name cannot start with a dot (the chooser hides such files).';
  if (n.length > 255) return 'The file name is longer than 255 characters.';
  return null;
}

/** 75 → "1 min 15 s"; 3725 → "1 h 2 min"; under a second → "under a second". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 1) return 'under a second';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

/** 12.34 → "12"; 3.456 → "3.5": a rate readable at a glance. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  return perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond).toLocaleString('en-US');
}

/** 0.064 → "0.064"; 12.3456 → "12.35"; 1234.5 → "1,234.5": kimg as a person reads it. */
export function formatKimg(kimg: number): string {
  if (!Number.isFinite(kimg)) return '—';
  const digits = kimg < 1 ? 3 : kimg < 100 ? 2 : 1;
  return kimg.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** A chart or stat value: four significant digits, no exponent for everyday sizes. */
export function formatStat(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 0.001 || abs >= 1e6)) return value.toExponential(2);
  return value.toLocaleString('en-US', { maximumSignificantDigits: 4 });
}

/** A duration for expectations, rounded as people say it: "under a minute", "about 4 min", "about 1 h 10 min". */
export function formatRoughDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'an unknown time';
  if (seconds < 60) return 'under a minute';
  const m = Math.round(seconds / 60);
  if (m < 60) return `about ${m} min`;
  const tens = Math.round(m / 10) * 10;
  const h = Math.floor(tens / 60);
  return tens % 60 === 0 ? `about ${h} h` : `about ${h} h ${tens % 60} min`;
}
