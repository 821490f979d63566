/** A model row as the Models view and the CLI show it (no tensors: the service uses this). */
import type { ModelSummary } from '../api/contract.js';
import type { ModelRow } from '../store/models.js';
import { parseGeneratorMeta } from './meta.js';

/** A model row as the Models view shows it. */
export function modelSummary(row: ModelRow): ModelSummary {
  const meta = parseGeneratorMeta(JSON.parse(row.metadata), `The model "${row.name}"`);
  const s = meta.source;
  return {
    id: row.id,
    name: row.name,
    source: row.source,
    resolution: meta.net.resolution,
    channels: meta.net.imageChannels,
    classNames: meta.classNames,
    runId: s.kind === 'checkpoint' ? s.runId : null,
    runName: s.kind === 'checkpoint' ? s.runName : null,
    checkpointId: row.checkpointId,
    kimg: meta.training?.kimg ?? (s.kind === 'checkpoint' ? s.kimg : null),
    step: meta.training?.step ?? (s.kind === 'checkpoint' ? s.step : null),
    metrics: meta.training?.metrics ?? {},
    importedFrom: s.kind === 'import' ? s.file : null,
    mergedFrom: s.kind === 'merge' ? s.sources.map((x) => x.label) : null,
    sizeBytes: row.sizeBytes,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
