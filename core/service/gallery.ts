/**
 * The gallery, models and exports of the open project, behind StudioApi. Every tensor operation
 * runs in the sampling worker (core/gallery/sample-worker.ts): one long-lived worker answers the
 * gallery (images stream back as `gallery.image` events), and each generator export gets a
 * worker of its own, so a long export never holds up the grid. Reads, curation (favourite,
 * reject, tags) and exports of kept items (their stored PNGs) are plain SQLite on the service's
 * connection.
 */
import type {
  ExportResult,
  GalleryItem,
  GalleryPage,
  GallerySource,
  GallerySources,
  GeneratorInfo,
  ModelSummary,
  Params,
  StudioEvent,
} from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { galleryMethods } from '../api/gallery.js';
import type { modelsMethods } from '../api/models.js';
import { pngDataUrl } from '../store/png-data-url.js';
import { writeItemsExport } from '../export/images-export.js';
import { modelSummary } from '../generator/model-summary.js';
import type { OpResults, SamplerOp } from '../gallery/sample-protocol.js';
import { SamplerClient, type RequestHandlers } from '../gallery/sampler-client.js';
import { GalleryStore, type GalleryScope } from '../store/gallery.js';
import { ModelStore } from '../store/models.js';
import type { Project } from '../store/project.js';
import { RunStore } from '../store/runs.js';
import { APP_VERSION } from '../api/version.js';
import { nativeDialog, type ProjectPart, type ServiceContext, type SliceHandlers } from './slices.js';

export interface GalleryOptions {
  /** Backend for sampling workers by name; absent: ATELIER_BACKEND, else the best that loads. */
  backend?: string;
}

export class Gallery {
  readonly models: ModelStore;
  readonly items: GalleryStore;
  private readonly runs: RunStore;
  private client: SamplerClient | null = null;
  /** Sample requests in flight: the renderer's id → the worker's. */
  private readonly inflight = new Map<string, number>();
  private readonly exports = new Set<SamplerClient>();

  constructor(
    private readonly project: Project,
    private readonly emit: (event: StudioEvent) => void,
    private readonly options: GalleryOptions = {},
  ) {
    this.models = new ModelStore(project.db);
    this.items = new GalleryStore(project.db);
    this.runs = new RunStore(project.db);
  }

  /** The gallery's worker, started on first use. */
  private sampler(): SamplerClient {
    this.client ??= new SamplerClient(this.project.path, this.options);
    return this.client;
  }

  /** One request in a worker of its own (exports, imports), ended afterwards. */
  private async once<K extends SamplerOp['op']>(op: Extract<SamplerOp, { op: K }>, handlers: RequestHandlers = {}): Promise<OpResults[K]> {
    const client = new SamplerClient(this.project.path, this.options);
    this.exports.add(client);
    try {
      return await client.request(op, handlers).done;
    } finally {
      this.exports.delete(client);
      await client.dispose();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Sampling.

  sources(): GallerySources {
    const runs = this.runs
      .listRuns()
      .map((r) => ({ id: r.id, name: r.name, status: r.status, checkpoints: this.runs.listCheckpoints(r.id).map(({ runId: _r, ...c }) => c) }))
      .filter((r) => r.checkpoints.length > 0);
    return { models: this.listModels(), runs, orphaned: this.items.orphanedCount() };
  }

  async open(source: GallerySource): Promise<GeneratorInfo> {
    const info = await this.sampler().request({ op: 'open', source }).done;
    return { source, ...info, backend: this.sampler().backend ?? 'unknown' };
  }

  /** Starts rendering; images arrive as `gallery.image` events, the end as `gallery.done`. */
  sample(p: Params<'gallery.sample'>): { requestId: string; count: number } {
    const { requestId } = p;
    if (this.inflight.has(requestId)) throw new UserError('exists', `A sample request with id ${requestId} is already running.`);
    const client = this.sampler();
    const { id, done } = client.request(
      { op: 'render', source: p.source, specs: p.specs },
      { onItem: (index, png) => this.emit({ type: 'gallery.image', requestId, index, dataUrl: pngDataUrl(png) }) },
    );
    this.inflight.set(requestId, id);
    void done.then(
      (r) => this.emit({ type: 'gallery.done', requestId, count: r.count, error: null }),
      (err: unknown) =>
        this.emit({ type: 'gallery.done', requestId, count: 0, error: err instanceof UserError ? err.toApiError() : { code: 'internal', message: String((err as Error)?.message ?? err) } }),
    ).finally(() => this.inflight.delete(requestId));
    return { requestId, count: p.specs.length };
  }

  cancel(requestIds: readonly string[]): number {
    let n = 0;
    for (const r of requestIds) {
      const id = this.inflight.get(r);
      if (id !== undefined && this.client?.cancel(id)) n++;
    }
    return n;
  }

  async save(p: Params<'gallery.save'>): Promise<GalleryItem> {
    const item = await this.sampler().request({ op: 'save', source: p.source, spec: p.spec, favourite: p.favourite ?? false, rejected: p.rejected ?? false, tags: p.tags ?? [] }).done;
    this.changed();
    return item;
  }

  page(p: Params<'gallery.items'>): GalleryPage {
    if (p.orphaned && p.source !== undefined) throw new UserError('invalid-request', "Ask for one generator's kept items or for those of deleted generators, not both.");
    const scope: GalleryScope | undefined = p.orphaned
      ? { orphaned: true }
      : p.source === undefined
        ? undefined
        : p.source.kind === 'model'
          ? { modelId: p.source.modelId }
          : { checkpointId: p.source.checkpointId };
    return this.items.page({ offset: p.offset, limit: p.limit, ...(p.filter ? { filter: p.filter } : {}), ...(p.tag !== undefined ? { tag: p.tag } : {}), ...(scope ? { scope } : {}) });
  }

  update(p: Params<'gallery.update'>): { updated: number[] } {
    const updated = this.items.update(p.ids, p);
    this.changed();
    return { updated };
  }

  delete(ids: readonly number[]): number {
    const n = this.items.delete(ids);
    this.changed();
    return n;
  }

  private changed(): void {
    this.emit({ type: 'gallery.changed' });
    this.emit({ type: 'project.changed', project: this.project.summary() });
  }

  /** Kept items' stored PNGs and provenance: read here, no worker (their generator may be gone). */
  exportItems(p: Params<'gallery.exportItems'>, out: string): Promise<ExportResult> {
    return writeItemsExport(this.items, p.ids, out, { overwrite: p.overwrite ?? false, studioVersion: APP_VERSION });
  }

  exportStrip(p: Params<'gallery.exportStrip'>, out: string): Promise<ExportResult> {
    return this.once({ op: 'strip', source: p.source, specs: p.specs, format: p.format, out, fps: p.fps ?? 8, overwrite: p.overwrite ?? false });
  }

  // -------------------------------------------------------------------------------------------
  // Models.

  listModels(): ModelSummary[] {
    return this.models.list().map(modelSummary);
  }

  private modelsChanged(): ModelSummary[] {
    const models = this.listModels();
    this.emit({ type: 'models.changed', models });
    this.emit({ type: 'project.changed', project: this.project.summary() });
    return models;
  }

  async promote(p: Params<'models.promote'>): Promise<ModelSummary> {
    if (!this.runs.getRun(p.runId)) throw new UserError('not-found', `There is no run ${p.runId} in this project.`);
    const model = await this.sampler().request({ op: 'promote', runId: p.runId, checkpointId: p.checkpointId, name: p.name }).done;
    this.modelsChanged();
    return model;
  }

  rename(modelId: number, name: string): ModelSummary {
    const model = modelSummary(this.models.rename(modelId, name));
    this.modelsChanged();
    return model;
  }

  deleteModel(modelId: number): ModelSummary[] {
    this.models.delete(modelId);
    return this.modelsChanged();
  }

  async importModel(path: string, name?: string): Promise<ModelSummary> {
    const model = await this.once({ op: 'import', path, ...(name !== undefined ? { name } : {}) });
    this.modelsChanged();
    return model;
  }

  exportModel(p: Params<'models.export'>, out: string): Promise<ExportResult> {
    const exportId = p.exportId ?? `export-${Date.now()}`;
    return this.once(
      { op: 'export', source: p.source, format: p.format, out, overwrite: p.overwrite ?? false, ...(p.images ? { images: p.images } : {}) },
      { onProgress: (phase, done, total) => this.emit({ type: 'export.progress', progress: { exportId, phase, done, total } }) },
    );
  }

  /** Ends the workers (the gallery's, and any export still running). */
  async dispose(): Promise<void> {
    const clients = [this.client, ...this.exports].filter((c): c is SamplerClient => c !== null);
    this.client = null;
    await Promise.all(clients.map((c) => c.dispose()));
  }
}

/** The gallery slice of the handler table. */
export function galleryHandlers(ctx: ServiceContext, gallery: ProjectPart<Gallery>): SliceHandlers<typeof galleryMethods> {
  return {
    'gallery.sources': () => gallery.require().sources(),
    'gallery.open': ({ source }) => gallery.require().open(source),
    'gallery.sample': (params) => gallery.require().sample(params),
    'gallery.cancel': ({ requestIds }) => ({ cancelled: gallery.require().cancel(requestIds) }),
    'gallery.save': (params) => gallery.require().save(params),
    'gallery.items': (params) => gallery.require().page(params),
    'gallery.update': (params) => gallery.require().update(params),
    'gallery.delete': ({ ids }) => ({ deleted: gallery.require().delete(ids) }),
    'gallery.exportItems': (params) => gallery.require().exportItems(params, ctx.allowedOutput(params.out)),
    'gallery.exportStrip': (params) => gallery.require().exportStrip(params, ctx.allowedOutput(params.out)),
  };
}

/** The models slice of the handler table. */
export function modelsHandlers(ctx: ServiceContext, gallery: ProjectPart<Gallery>): SliceHandlers<typeof modelsMethods> {
  return {
    'models.list': () => gallery.require().listModels(),
    'models.promote': (params) => gallery.require().promote(params),
    'models.rename': ({ modelId, name }) => gallery.require().rename(modelId, name),
    'models.delete': ({ modelId }) => gallery.require().deleteModel(modelId),
    'models.import': ({ path, name }) => gallery.require().importModel(ctx.allowedSource(path), name),
    'models.export': (params) => gallery.require().exportModel(params, ctx.allowedOutput(params.out)),
    'dialog.pickModelImport': async () => {
      const path = await nativeDialog(ctx.host, 'pickModelImport')();
      if (path !== null) ctx.host.paths.grant(path, 'read');
      return { path };
    },
  };
}
