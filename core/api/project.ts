/**
 * Project domain of StudioApi: the app, project files, the recent list, choosing files (the
 * browser mode's chooser, the desktop's dialogs for projects and export destinations).
 */
import { z } from 'zod';
import { empty, projectPath, returns } from './schemas.js';

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
  /** Browser mode: why it cannot be opened here (outside the folder the server offers, and how to widen it); null when it can. */
  blocked: string | null;
}

/** A place the browser-mode chooser offers beside the folder list. */
export interface ChooserPlace {
  /** 'Home', 'Served folder', a volume's folder name, a recent project's folder name. */
  name: string;
  path: string;
  kind: 'root' | 'home' | 'volume' | 'recent';
  /** False when it lies outside the folder the server offers (shown, not openable: see `widen`). */
  inside: boolean;
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
  /** The served folder, home, mounted volumes and recent projects' folders (those outside the root marked). */
  places: ChooserPlace[];
  /** How to make the chooser offer more (the serve flag and environment variable). */
  widen: string;
}

const projectName = z
  .string()
  .trim()
  .min(1, 'The project name is empty.')
  .max(200, 'The project name is longer than 200 characters.');

export const projectMethods = {
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

  /**
   * The open project's default export folder (`<name>-exports` beside the project file, never
   * inside a folder images were imported from), created if missing.
   */
  'project.exportFolder': returns<{ dir: string }>()(empty),

  /** Desktop: a native save dialog for an export (starting in the export folder, a plain file name). Null if cancelled. */
  'dialog.pickExportPath': returns<{ path: string | null }>()(z.object({ suggestedName: z.string().max(200).optional() }).strict()),

} as const;

export type ProjectEvent =
  | { type: 'project.changed'; project: ProjectSummary | null }
  | { type: 'recent.changed'; recent: RecentProject[] }
  /** Desktop: files or folders dropped onto the window (read by the preload, granted by main). */
  | { type: 'files.dropped'; paths: string[] };
