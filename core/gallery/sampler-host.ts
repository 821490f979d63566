/**
 * What the sampling worker does for each request, with the project file open on its own
 * connection and a TF.js backend started: load generators (the last two stay loaded), render
 * specs and stream PNGs, keep images with their provenance, promote checkpoints and import
 * exports as models, write exports. The worker entry (sample-worker.ts) wires this to IPC; tests
 * also run it in-process.
 */
import type Database from 'better-sqlite3';
import type { ExportResult, GalleryItem, GallerySource, ItemProvenance, ModelSummary, SampleSpec } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { encodePng } from '../data/png.js';
import { type ExportableGenerator } from '../export/generator-files.js';
import { writeHtmlExport } from '../export/html-export.js';
import { type ImageEntry, isZipPath, writeImagesExport } from '../export/images-export.js';
import { readTfjsExport } from '../export/model-import.js';
import { checkDestination } from '../export/output.js';
import { writeOnnxExport } from '../export/onnx-export.js';
import { writeStrip, type StripFrame } from '../export/strip.js';
import { writeTfjsExport } from '../export/tfjs-export.js';
import { GalleryStore, type ItemLatents } from '../store/gallery.js';
import { ModelStore } from '../store/models.js';
import { CheckpointFormatError, encodeTensors } from '../nets/checkpoint-format.js';
import { buildGenerator, parameterShapes, parameterValues } from '../generator/weights.js';
import { LATENT_ALGORITHM, parseSeeds } from '../generator/latents.js';
import { checkClass, type GeneratorMeta, META_FORMAT } from '../generator/meta.js';
import { modelSummary } from '../generator/model-summary.js';
import type { ImageSelection, OpenedInfo, OpResults, SamplerOp } from './sample-protocol.js';
import { oneHot, Sampler } from '../generator/sampler.js';
import { checkpointMeta, type LoadedSource, loadSource, sourceKey } from '../generator/source.js';
import { resolveSpecs, type ResolvedSpec } from '../generator/specs.js';

/** What a request can report while it runs. */
export interface RequestContext {
  item(index: number, png: Uint8Array): void;
  progress(phase: string, done: number, total: number): void;
  cancelled(): boolean;
}

interface Loaded {
  /** The generator's identity: source and when its row was written. */
  key: string;
  loaded: LoadedSource;
  sampler: Sampler;
}

/** An image as rendered: its PNG and the w synthesis used. */
interface Rendered {
  png: Buffer;
  w: Float32Array;
}

/** Generators kept loaded (the gallery's, plus one more while comparing). */
const KEEP_LOADED = 2;
/** Images per export at most (seed lists). */
const MAX_EXPORT_IMAGES = 100_000;

/** Bytes of recently rendered images kept for `save` (a few grid pages at 256²; many more when small). */
const RECENT_BYTES = 32 << 20;

/** A spec as a string independent of key order; null when it names kept items (ids are used again after a delete). */
function specKey(spec: SampleSpec): string | null {
  const canonical = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(canonical).join(',')}]`
      : v !== null && typeof v === 'object'
        ? `{${Object.keys(v)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
            .join(',')}}`
        : JSON.stringify(v);
  const key = canonical(spec);
  return key.includes('"itemId"') ? null : key;
}

/**
 * Images the grid was just sent, by generator and spec, so that keeping one (a star) stores those
 * bytes instead of rendering it again behind every queued page. Least recently used go first.
 */
class RecentRenders {
  private readonly map = new Map<string, Rendered>();
  private bytes = 0;

  get(key: string): Rendered | undefined {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
    }
    return hit;
  }

  set(key: string, r: Rendered): void {
    const old = this.map.get(key);
    if (old) {
      this.map.delete(key);
      this.bytes -= old.png.byteLength + old.w.byteLength;
    }
    this.map.set(key, r);
    this.bytes += r.png.byteLength + r.w.byteLength;
    while (this.bytes > RECENT_BYTES && this.map.size > 1) {
      const [oldest, v] = this.map.entries().next().value as [string, Rendered];
      this.map.delete(oldest);
      this.bytes -= v.png.byteLength + v.w.byteLength;
    }
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}

/** PNG bytes of one rendered image ([R, R, C] uint8). */
const pngOf = (s: Sampler, pixels: Uint8Array): Buffer => encodePng(pixels, s.resolution, s.resolution, s.channels as 1 | 3);

export class SamplerHost {
  private readonly cache = new Map<string, Loaded>();
  private readonly recent = new RecentRenders();
  private readonly models: ModelStore;
  private readonly gallery: GalleryStore;

  constructor(
    private readonly db: Database.Database,
    readonly backend: string,
    private readonly studioVersion: string,
  ) {
    this.models = new ModelStore(db);
    this.gallery = new GalleryStore(db);
  }

  /** Runs one request; errors a user can act on are UserErrors. */
  async run<K extends SamplerOp['op']>(op: Extract<SamplerOp, { op: K }>, ctx: RequestContext): Promise<OpResults[K]> {
    try {
      return (await this.dispatch(op as SamplerOp, ctx)) as OpResults[K];
    } catch (err) {
      if (err instanceof CheckpointFormatError) throw new UserError('corrupt', `${err.message} Pick another checkpoint or model.`);
      throw err;
    }
  }

  private async dispatch(op: SamplerOp, ctx: RequestContext): Promise<unknown> {
    switch (op.op) {
      case 'open':
        return this.info(await this.get(op.source));
      case 'render':
        return this.render(op.source, op.specs, ctx);
      case 'save':
        return this.save(op.source, op.spec, op);
      case 'promote':
        return this.promote(op.runId, op.checkpointId, op.name);
      case 'import':
        return this.importModel(op.path, op.name);
      case 'export':
        return this.export(op, ctx);
      case 'strip':
        return this.strip(op, ctx);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Loading.

  /** The source's generator, loaded once and kept (the least recently used one goes). */
  async get(source: GallerySource): Promise<Loaded> {
    // Row ids can be used again after a delete: the key includes when the row was written.
    const key = `${sourceKey(source)}@${this.stamp(source)}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    // The weights go once the generator holds them.
    const { weights, ...loaded } = loadSource(this.db, source);
    const G = buildGenerator(loaded.meta, weights, `The weights of "${loaded.label}"`);
    const entry = { key, loaded, sampler: new Sampler(G, loaded.meta) };
    this.cache.set(key, entry);
    while (this.cache.size > KEEP_LOADED) {
      const [oldKey, old] = this.cache.entries().next().value as [string, Loaded];
      this.cache.delete(oldKey);
      old.sampler.dispose();
    }
    return entry;
  }

  /** When the source's row was written (renamed): a stale generator is never sampled. */
  private stamp(source: GallerySource): string {
    const row =
      source.kind === 'model'
        ? (this.db.prepare('SELECT created_at || coalesce(updated_at, \'\') AS at FROM models WHERE id = ?').get(source.modelId) as { at: string } | undefined)
        : (this.db.prepare('SELECT created_at AS at FROM checkpoints WHERE id = ?').get(source.checkpointId) as { at: string } | undefined);
    return row?.at ?? 'missing';
  }

  private info({ loaded }: Loaded): OpenedInfo {
    const n = loaded.meta.net;
    return { label: loaded.label, resolution: n.resolution, channels: n.imageChannels, classNames: loaded.meta.classNames, zDim: n.zDim, wDim: n.wDim };
  }

  // -------------------------------------------------------------------------------------------
  // Rendering.

  private compatible(l: LoadedSource): (item: ItemLatents) => boolean {
    return (item) => {
      if (l.source.kind === 'model') return item.modelId === l.source.modelId || (item.modelId === null && l.checkpoint !== null && item.checkpointId === l.checkpoint.id);
      return item.checkpointId === l.source.checkpointId;
    };
  }

  private resolve(entry: Loaded, specs: readonly SampleSpec[]): Promise<ResolvedSpec[]> {
    return resolveSpecs(specs, {
      meta: entry.loaded.meta,
      item: (id) => this.gallery.latents(id),
      compatible: this.compatible(entry.loaded),
      wOf: (latents) => entry.sampler.wOf(latents),
    });
  }

  private async render(source: GallerySource, specs: SampleSpec[], ctx: RequestContext): Promise<OpResults['render']> {
    const entry = await this.get(source);
    const resolved = await this.resolve(entry, specs);
    const { sampler } = entry;
    const keys = specs.map((s) => specKey(s));
    const count = await sampler.render(
      resolved.map((r) => r.latent),
      (index, r) => {
        const png = pngOf(sampler, r.pixels);
        const key = keys[index];
        if (key !== null && key !== undefined) this.recent.set(`${entry.key}|${key}`, { png, w: r.w });
        ctx.item(index, png);
      },
      () => ctx.cancelled(),
    );
    return { count, cancelled: count < specs.length };
  }

  /** Renders resolved specs to pixels, PNGs and the w used. */
  private async renderAll(entry: Loaded, resolved: readonly ResolvedSpec[]): Promise<Array<{ pixels: Uint8Array; png: Buffer; w: Float32Array }>> {
    const out: Array<{ pixels: Uint8Array; png: Buffer; w: Float32Array }> = [];
    const { sampler } = entry;
    await sampler.render(
      resolved.map((r) => r.latent),
      (_i, r) => {
        out.push({ pixels: r.pixels, png: pngOf(sampler, r.pixels), w: r.w });
      },
    );
    return out;
  }

  private provenance(l: LoadedSource, spec: SampleSpec): ItemProvenance {
    return {
      generator: l.label,
      model: l.model,
      run: l.run,
      checkpoint: l.checkpoint,
      spec,
      noise: 'const',
      latentAlgorithm: LATENT_ALGORITHM,
      backend: this.backend,
      studioVersion: this.studioVersion,
    };
  }

  private exists(table: 'runs' | 'checkpoints' | 'models', id: number | undefined | null): number | null {
    if (id === undefined || id === null) return null;
    return this.db.prepare(`SELECT 1 FROM ${table} WHERE id = ?`).get(id) ? id : null;
  }

  private async save(source: GallerySource, spec: SampleSpec, o: { favourite: boolean; rejected: boolean; tags: string[] }): Promise<GalleryItem> {
    const entry = await this.get(source);
    const [resolved] = await this.resolve(entry, [spec]);
    // Usually just shown in the grid: those bytes, not a second render.
    const key = specKey(spec);
    const image = (key !== null ? this.recent.get(`${entry.key}|${key}`) : undefined) ?? (await this.renderAll(entry, [resolved!]))[0];
    const l = entry.loaded;
    const r = resolved!;
    return this.gallery.insert({
      modelId: this.exists('models', l.model?.id),
      checkpointId: this.exists('checkpoints', l.checkpoint?.id),
      runId: this.exists('runs', l.run?.id),
      origin: r.origin,
      seed: r.seed,
      psi: r.psi,
      classIndex: r.classIndex,
      className: r.classIndex === null ? null : (l.meta.classNames[r.classIndex] ?? null),
      w: image!.w,
      z: r.z,
      png: image!.png,
      favourite: o.favourite,
      rejected: o.rejected,
      tags: o.tags,
      recipe: spec,
      provenance: this.provenance(l, spec),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Models.

  private promote(runId: number, checkpointId: number, name: string): ModelSummary {
    const c = checkpointMeta(this.db, checkpointId);
    if (c.runId !== runId) throw new UserError('invalid-request', `Checkpoint ${checkpointId} belongs to run ${c.runId}, not run ${runId}. Pick the checkpoint from that run's list.`);
    const row = this.models.insert({ name, checkpointId, runId, source: 'checkpoint', weights: encodeTensors(c.tensors), metadata: JSON.stringify(c.meta) });
    return modelSummary(row);
  }

  private async importModel(path: string, name?: string): Promise<ModelSummary> {
    const imported = await readTfjsExport(path);
    const what = `The weights in ${imported.dir}`;
    const G = buildGenerator(imported.meta, imported.tensors, what);
    let weights: Buffer;
    try {
      // One image, to be sure the weights make numbers (a damaged file could hold NaNs).
      const probe = new Sampler(G, imported.meta);
      const image = await probe.imagesFloat([{ kind: 'z', z: new Float32Array(imported.meta.net.zDim), cls: oneHot(imported.meta, 0), psi: 1 }]);
      if (!image.every(Number.isFinite)) throw new UserError('corrupt', `${what} produce no image (not-a-number values): the export is damaged. Export the model again.`, imported.dir);
      weights = encodeTensors(G.params.all().map((p) => imported.tensors.get(p.name)!));
    } finally {
      G.dispose();
    }
    const meta: GeneratorMeta = {
      ...imported.meta,
      format: META_FORMAT,
      source: { kind: 'import', file: imported.dir, importedAt: new Date().toISOString(), exportedAs: imported.name },
    };
    const row = this.models.insert({ name: name ?? this.models.freeName(imported.name), checkpointId: null, runId: null, source: 'import', weights, metadata: JSON.stringify(meta) });
    return modelSummary(row);
  }

  // -------------------------------------------------------------------------------------------
  // Exports.

  private async exportable(entry: Loaded): Promise<ExportableGenerator> {
    const G = entry.sampler.G;
    return { label: entry.loaded.label, meta: entry.loaded.meta, values: await parameterValues(G), shapes: parameterShapes(G) };
  }

  private manifestBase(l: LoadedSource): Record<string, unknown> {
    return {
      generator: l.label,
      model: l.model,
      run: l.run,
      checkpoint: l.checkpoint,
      resolution: l.meta.net.resolution,
      colourMode: l.meta.colourMode,
      classes: l.meta.classNames,
      noise: "each synthesis layer's stored constant noise",
      latentAlgorithm: LATENT_ALGORITHM,
      backend: this.backend,
      studioVersion: this.studioVersion,
    };
  }

  private async export(op: Extract<SamplerOp, { op: 'export' }>, ctx: RequestContext): Promise<ExportResult> {
    const o = { overwrite: op.overwrite, studioVersion: this.studioVersion, ...(op.forceHint !== undefined ? { forceHint: op.forceHint } : {}) };
    // Refuse a destination that exists (or may not be replaced) before loading, building and checking anything.
    const file = op.format === 'onnx' || (op.format === 'images' && isZipPath(op.out));
    await checkDestination(op.out, { kind: file ? 'file' : 'dir', ...o });
    const entry = await this.get(op.source);
    switch (op.format) {
      case 'tfjs':
        ctx.progress('writing', 0, 1);
        return writeTfjsExport(op.out, await this.exportable(entry), o);
      case 'html':
        ctx.progress('writing', 0, 1);
        return writeHtmlExport(op.out, await this.exportable(entry), o);
      case 'onnx': {
        ctx.progress('checking', 0, 1);
        const reference = (c: { psi: number; z: Float32Array[]; cls: Float32Array[] | null }): Promise<Float32Array> =>
          entry.sampler.imagesFloat(c.z.map((z, i) => ({ kind: 'z' as const, z, cls: c.cls?.[i] ?? null, psi: c.psi })));
        // Exactly the path that was checked and granted (the dialogs and the CLI suggest '.onnx').
        return writeOnnxExport(op.out, await this.exportable(entry), reference, o);
      }
      case 'images':
        return this.exportImages(entry, op.out, op.overwrite, op.images ?? {}, ctx, op.forceHint);
    }
  }

  private async exportImages(entry: Loaded, out: string, overwrite: boolean, sel: ImageSelection, ctx: RequestContext, forceHint?: string): Promise<ExportResult> {
    const l = entry.loaded;
    const hint = forceHint !== undefined ? { forceHint } : {};
    const manifest = this.manifestBase(l);
    if (sel.seeds === undefined) throw new UserError('invalid-request', 'Say which images to export: seeds, e.g. 0-99.');
    const seeds = parseSeeds(sel.seeds, MAX_EXPORT_IMAGES, 'seeds');
    const psi = sel.psi ?? 1;
    const classIndex = checkClass(l.meta, sel.classIndex ?? null);
    const className = classIndex === null ? null : l.meta.classNames[classIndex]!;
    const render = (specs: SampleSpec[]) => this.resolve(entry, specs).then((r) => this.renderAll(entry, r));
    async function* rendered(): AsyncGenerator<ImageEntry> {
      // A chunk at a time: bounded memory for long seed lists.
      const CHUNK = 64;
      for (let start = 0; start < seeds.length; start += CHUNK) {
        const chunk = seeds.slice(start, start + CHUNK);
        const specs: SampleSpec[] = chunk.map((seed) => ({ kind: 'seed', seed, psi, classIndex }));
        const images = await render(specs);
        for (const [i, img] of images.entries()) {
          const seed = chunk[i]!;
          yield { file: `seed-${String(seed).padStart(6, '0')}.png`, png: img.png, record: { seed, psi, classIndex, className, origin: 'seed', spec: specs[i] } };
        }
      }
    }
    return writeImagesExport(out, rendered(), { overwrite, ...hint, manifest, onProgress: (d) => ctx.progress('writing', d, seeds.length) });
  }

  private async strip(op: Extract<SamplerOp, { op: 'strip' }>, ctx: RequestContext): Promise<ExportResult> {
    const entry = await this.get(op.source);
    const resolved = await this.resolve(entry, op.specs);
    ctx.progress('rendering', 0, op.specs.length);
    const images = await this.renderAll(entry, resolved);
    const frames: StripFrame[] = images.map((img, i) => ({ pixels: img.pixels, png: img.png, record: { spec: op.specs[i], seed: resolved[i]!.seed, psi: resolved[i]!.psi, classIndex: resolved[i]!.classIndex } }));
    const { sampler } = entry;
    return writeStrip(op.out, frames, { format: op.format, size: sampler.resolution, channels: sampler.channels, fps: op.fps, overwrite: op.overwrite, manifest: this.manifestBase(entry.loaded) });
  }

  dispose(): void {
    for (const e of this.cache.values()) e.sampler.dispose();
    this.cache.clear();
    this.recent.clear();
  }
}
