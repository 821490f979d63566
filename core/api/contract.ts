/**
 * StudioApi: the one contract between the renderer and the core service.
 *
 * Electron's main process (IPC), the browser-mode server (WebSocket) and the renderer all import
 * this file. Each method has a params schema, validated at the boundary by `dispatch.ts`, and a
 * result type. Adding a method here without a handler is a type error in every host.
 *
 * Browser-safe: this file imports zod and types only, never `node:` modules.
 */
import { z } from 'zod';
import type { Result } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Shared shapes.

/** A project file path as the user picked it: absolute, no NUL bytes, a sane length. */
export const projectPath = z
  .string()
  .min(1, 'A project path is required.')
  .max(4096, 'The path is longer than 4,096 characters.')
  .refine((p) => !p.includes('\0'), 'The path contains a NUL character.');

export interface ProjectCounts {
  images: number;
  labels: number;
  runs: number;
  checkpoints: number;
  models: number;
  galleryItems: number;
}

export interface ProjectSummary {
  /** Absolute path of the .atelier file. */
  path: string;
  /** Stable id written when the project was created. */
  id: string;
  name: string;
  /** Schema version of the file (PRAGMA user_version). */
  schemaVersion: number;
  /** ISO time the project was created. */
  createdAt: string;
  /** Version of the studio that created the file. */
  createdBy: string;
  sizeBytes: number;
  counts: ProjectCounts;
}

export interface RecentProject {
  path: string;
  name: string;
  /** ISO time the project was last opened in the studio. */
  lastOpened: string;
  /** False when the file has been moved or deleted since. */
  exists: boolean;
}

export interface AppInfo {
  version: string;
  /** 'desktop' under Electron, 'browser' under `atelier serve`. */
  mode: 'desktop' | 'browser';
  /** True when the host shows native open/save dialogs (`dialog.pickProject`). */
  nativeDialogs: boolean;
  /** Highest project schema this build reads and writes. */
  schemaVersion: number;
  platform: string;
}

export interface FileEntry {
  name: string;
  path: string;
  kind: 'dir' | 'project' | 'file';
  sizeBytes: number;
}

export interface DirListing {
  /** The folder listed (absolute). */
  dir: string;
  /** Its parent, or null at the chooser's root. */
  parent: string | null;
  /** The folder the chooser may not leave. */
  root: string;
  /** Folders first, then files, each sorted by name; hidden entries left out. */
  entries: FileEntry[];
}

// ---------------------------------------------------------------------------------------------
// Methods.

/** Declares a method: `returns<Result>()(paramsSchema)`; the result is a type only. */
function returns<R>() {
  return <P extends z.ZodType>(params: P): { params: P; result: R } => ({ params, result: undefined as unknown as R });
}

const empty = z.object({}).strict();
const projectName = z
  .string()
  .trim()
  .min(1, 'The project name is empty.')
  .max(200, 'The project name is longer than 200 characters.');

export const methods = {
  /** What this host is and can do. */
  'app.info': returns<AppInfo>()(empty),

  /** Create a new project file at `path` (must not exist) and open it. */
  'project.create': returns<ProjectSummary>()(z.object({ path: projectPath, name: projectName.optional() }).strict()),

  /** Open an existing project file (closing the one open, if any). */
  'project.open': returns<ProjectSummary>()(z.object({ path: projectPath }).strict()),

  /** Close the open project. No-op when none is open. */
  'project.close': returns<null>()(empty),

  /** The open project, or null. */
  'project.current': returns<ProjectSummary | null>()(empty),

  /** Recently opened projects, newest first. */
  'project.recent': returns<RecentProject[]>()(empty),

  /** Remove an entry from the recent list (the file itself is untouched). */
  'project.forget': returns<RecentProject[]>()(z.object({ path: projectPath }).strict()),

  /** Browser mode's file chooser: list a folder under the chooser's root (default: the root). */
  'files.list': returns<DirListing>()(z.object({ dir: projectPath.optional() }).strict()),

  /** Desktop: a native dialog to pick a project to open, or where to create one. Null if cancelled. */
  'dialog.pickProject': returns<{ path: string | null }>()(
    z.object({ mode: z.enum(['open', 'create']), suggestedName: z.string().max(200).optional() }).strict(),
  ),
} as const;

export type Methods = typeof methods;
export type Method = keyof Methods;
export type Params<M extends Method> = z.infer<Methods[M]['params']>;
export type ResultOf<M extends Method> = Methods[M]['result'];

/** The contract as a callable interface: what the renderer sees through its IBackend. */
export type StudioApi = { [M in Method]: (params: Params<M>) => Promise<ResultOf<M>> };

export const methodNames = Object.keys(methods) as Method[];

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}

// ---------------------------------------------------------------------------------------------
// Events pushed from the service to every connected renderer.

export type StudioEvent =
  | { type: 'project.changed'; project: ProjectSummary | null }
  | { type: 'recent.changed'; recent: RecentProject[] };

// ---------------------------------------------------------------------------------------------
// Transport names (IPC channels, WebSocket frames).

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
