/**
 * Errors a user can act on. Every failure that crosses the StudioApi boundary is one of these:
 * a stable `code` for programs and a `message` that says what happened, to which file or
 * setting, and what to do next.
 */
export type ErrorCode =
  | 'invalid-request' // the request did not match the contract
  | 'unknown-method' // no such method in StudioApi
  | 'not-found' // a file or record that does not exist
  | 'exists' // refusing to overwrite something
  | 'not-a-project' // not SQLite, or SQLite but not a GAN Atelier project
  | 'corrupt' // failed the integrity check
  | 'too-new' // written by a newer version of the studio
  | 'no-project' // the request needs an open project
  | 'forbidden' // a path outside what the user picked
  | 'unavailable' // not offered by this host (e.g. native dialogs in the browser)
  | 'io' // the disk said no (permissions, full disk)
  | 'internal'; // a bug: the message says so and where the log is

export interface ApiError {
  code: ErrorCode;
  message: string;
  /** The file or setting the error is about, when there is one. */
  subject?: string;
}

/** Thrown by core code for failures a user can act on; turned into `{ok: false, error}` at the boundary. */
export class UserError extends Error {
  readonly code: ErrorCode;
  readonly subject?: string;
  constructor(code: ErrorCode, message: string, subject?: string) {
    super(message);
    this.name = 'UserError';
    this.code = code;
    this.subject = subject;
  }
  toApiError(): ApiError {
    return this.subject === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, subject: this.subject };
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (error: ApiError): Result<never> => ({ ok: false, error });

/** Explains a Node file-system error in words, naming the file. */
export function describeIoError(err: unknown, file: string, doing: string): UserError {
  const code = (err as NodeJSLikeError | null)?.code;
  switch (code) {
    case 'ENOENT':
      return new UserError('not-found', `${file} does not exist. Check the path, or pick the file again.`, file);
    case 'EACCES':
    case 'EPERM':
      return new UserError('io', `Cannot ${doing} ${file}: permission denied. Pick a folder you can write to, or fix its permissions.`, file);
    case 'ENOSPC':
      return new UserError('io', `Cannot ${doing} ${file}: the disk is full. Free some space and try again; nothing already saved was changed.`, file);
    case 'EROFS':
      return new UserError('io', `Cannot ${doing} ${file}: the disk is read-only. Pick another location.`, file);
    case 'EISDIR':
      return new UserError('invalid-request', `${file} is a folder, not a project file. Pick a .atelier file.`, file);
    default:
      return new UserError('io', `Cannot ${doing} ${file}: ${(err as Error)?.message ?? String(err)}.`, file);
  }
}

interface NodeJSLikeError {
  code?: string;
}
