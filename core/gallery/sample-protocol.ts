/**
 * Messages between the service and the sampling worker (Node IPC, structured clone: Buffers and
 * typed arrays cross intact). Unlike a job worker, it lives as long as the project is open and
 * answers requests one at a time, streaming images as they are made:
 *
 *   service → worker   init (once), request {id, op}, cancel {id}
 *   worker  → service  ready | init-failed, item {id, index, png}, progress {id, …},
 *                      result {id, value} | error {id, error}
 */
import type { ExportResult, GalleryItem, GallerySource, ModelExportFormat, ModelSummary, SampleSpec } from '../api/contract.js';
import type { ApiError } from '../api/errors.js';

export interface InitMessage {
  type: 'init';
  projectPath: string;
  /** A backend name ('wasm', 'cpu', …); absent: ATELIER_BACKEND, else the best that loads. */
  backend?: string;
}

/** What a worker knows about a loaded generator (GeneratorInfo without the backend). */
export interface OpenedInfo {
  label: string;
  resolution: number;
  channels: number;
  classNames: string[];
  zDim: number;
  wDim: number;
}

export interface ImageSelection {
  /** Seeds as a user types them ("0-99"). */
  seeds?: string;
  psi?: number;
  classIndex?: number | null;
}

export type SamplerOp =
  | { op: 'open'; source: GallerySource }
  | { op: 'render'; source: GallerySource; specs: SampleSpec[] }
  | { op: 'save'; source: GallerySource; spec: SampleSpec; favourite: boolean; rejected: boolean; tags: string[] }
  | { op: 'promote'; runId: number; checkpointId: number; name: string }
  | { op: 'import'; path: string; name?: string }
  /** `forceHint`: how the user asks to replace an existing destination ('pass --force to replace it'). */
  | { op: 'export'; source: GallerySource; format: ModelExportFormat; out: string; overwrite: boolean; images?: ImageSelection; forceHint?: string }
  | { op: 'strip'; source: GallerySource; specs: SampleSpec[]; format: 'gif' | 'png-sequence'; out: string; fps: number; overwrite: boolean };

/** What each op answers. */
export interface OpResults {
  open: OpenedInfo;
  render: { count: number; cancelled: boolean };
  save: GalleryItem;
  promote: ModelSummary;
  import: ModelSummary;
  export: ExportResult;
  strip: ExportResult;
}

export type ToSampler = InitMessage | { type: 'request'; id: number; op: SamplerOp } | { type: 'cancel'; id: number };

export type FromSampler =
  | { type: 'ready'; backend: string; detail: string }
  | { type: 'init-failed'; error: ApiError }
  | { type: 'item'; id: number; index: number; png: Uint8Array }
  | { type: 'progress'; id: number; phase: string; done: number; total: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: ApiError };
