/** What differs between the desktop app and the browser mode, as the service sees it. */
import type { AppInfo } from '../api/contract.js';
import type { PathPolicy } from './paths.js';

export interface Host {
  mode: AppInfo['mode'];
  /** Where per-user state (recent list) lives. */
  appHome: string;
  /** Which renderer-supplied paths may be used. */
  paths: PathPolicy;
  /** Desktop: shows a native dialog. Absent in the browser mode. */
  pickProject?: (mode: 'open' | 'create', suggestedName?: string) => Promise<string | null>;
  /** Desktop: a native dialog for files (images, DICOM, zips) or one folder to import; [] if cancelled. */
  pickImportSources?: (kind: 'files' | 'folder') => Promise<string[]>;
  /** Desktop: a native save dialog for an export; null if cancelled. */
  pickExportPath?: (suggestedName?: string) => Promise<string | null>;
  /** Desktop: a native dialog to pick a generator export (a folder or its model.json) to import; null if cancelled. */
  pickModelImport?: () => Promise<string | null>;
  /** Desktop: a native dialog to pick a generator to merge (an .onnx file, a TF.js export's folder or its model.json); null if cancelled. */
  pickMergeSource?: () => Promise<string | null>;
}

/** The host's native dialogs, by name. */
export type DialogName = 'pickProject' | 'pickImportSources' | 'pickExportPath' | 'pickModelImport' | 'pickMergeSource';
