/**
 * The Models view's state: the project's models (kept current from `models.changed`), and the
 * user's actions on them — promote a checkpoint, import an export, rename, delete, export (with
 * its progress from `export.progress`).
 */
import type { ExportProgress, ExportResult, GallerySource, ModelExportFormat, ModelSummary, Params, StudioEvent } from '../../../../core/api/contract.js';
import { ProjectScopedState } from './project-scoped.svelte.js';

/** What the export dialog asks for (the destination comes after, from a chooser or the system dialog). */
export interface ExportChoice {
  format: ModelExportFormat;
  images?: { seeds: string; psi: number; classIndex: number | null };
  zip: boolean;
}

export interface ExportRequest {
  source: GallerySource;
  format: ModelExportFormat;
  out: string;
  overwrite?: boolean;
  images?: { seeds: string; psi: number; classIndex: number | null };
}

export class ModelsState extends ProjectScopedState {
  models = $state.raw<ModelSummary[]>([]);
  loaded = $state(false);
  exporting = $state(false);
  progress = $state.raw<ExportProgress | null>(null);
  exported = $state.raw<ExportResult | null>(null);
  private exportId: string | null = null;

  protected reset(): void {
    this.models = [];
    this.loaded = false;
    this.exported = null;
  }

  async load(): Promise<void> {
    const models = await this.read('models.list', {});
    if (!models) return;
    this.models = models;
    this.loaded = true;
  }

  protected apply(event: StudioEvent): void {
    if (event.type === 'models.changed') this.models = event.models;
    else if (event.type === 'export.progress' && event.progress.exportId === this.exportId) this.progress = event.progress;
  }

  async promote(runId: number, checkpointId: number, name: string): Promise<ModelSummary | null> {
    const m = await this.act('models.promote', { runId, checkpointId, name });
    if (m) await this.load();
    return m;
  }

  async rename(modelId: number, name: string): Promise<boolean> {
    const m = await this.act('models.rename', { modelId, name });
    if (m) await this.load();
    return m !== null;
  }

  async remove(modelId: number): Promise<boolean> {
    const list = await this.act('models.delete', { modelId });
    if (list) this.models = list;
    return list !== null;
  }

  async importFrom(path: string, name?: string): Promise<ModelSummary | null> {
    const m = await this.act('models.import', name ? { path, name } : { path });
    if (m) await this.load();
    return m;
  }

  /** Desktop: the native dialog for an export folder or its model.json; null when cancelled. */
  async pickImport(): Promise<string | null> {
    return (await this.act('dialog.pickModelImport', {}))?.path ?? null;
  }

  async pickExportPath(suggestedName: string): Promise<string | null> {
    return (await this.act('dialog.pickExportPath', { suggestedName }))?.path ?? null;
  }

  /** Writes an export; the error (e.g. the destination exists) shows in the alert. */
  async exportTo(req: ExportRequest): Promise<ExportResult | null> {
    this.exporting = true;
    this.exported = null;
    this.exportId = `export-${Date.now()}`;
    this.progress = null;
    try {
      const params: Params<'models.export'> = { source: req.source, format: req.format, out: req.out, exportId: this.exportId };
      if (req.overwrite) params.overwrite = true;
      if (req.images) params.images = req.images;
      const r = await this.act('models.export', params);
      this.exported = r;
      return r;
    } finally {
      this.exporting = false;
      this.progress = null;
    }
  }

  dismissExported(): void {
    this.exported = null;
  }
}
