/**
 * Merging generators into one class-conditional generator without their data (GAN Cocktail,
 * Avrahami, Lischinski & Fried, ECCV 2022). What a `merge` job's worker, the CLI and benchmarks
 * use:
 *
 *   const sources = await openMergeSources(specs, { db })     // refuses bad sources (nothing written)
 *   const out = await runMerge({ sources, settings, resume, callbacks, evaluation })
 *   //   callbacks.checkpoint({ state, put, drop, reason }) — store atomically; pass the last one back
 *   //   as `resume` ({ state, blobs }) to continue at the same stage and step
 *   if (out.outcome === 'completed') models.insert(mergedModelRecord(out.result!, name))
 *   sources.forEach((s) => s.dispose())
 *
 * Files: open.ts (specs), studio-source.ts / onnx-source.ts (adapters), source.ts (the interface,
 * resampling), sampling-source.ts (the loop's data source), surgery.ts (averaging, class
 * extension), plan.ts (settings, checks, stages), merge.ts (the resumable state machine),
 * evaluate.ts (per-class KID), checkpoint-dir.ts (a folder host for scripts and tests).
 */
export { CheckpointDir } from './checkpoint-dir.js';
export { evaluatePerClass, featuresOf, generatorPixels, type PerClassEvaluation, type PerClassOptions, sourcePixels } from './evaluate.js';
export {
  MERGE_STATE_FORMAT,
  type MergeCallbacks,
  type MergeCheckpointWrite,
  mergedMeta,
  mergedModelRecord,
  type MergeOptions,
  type MergeOutcome,
  type MergePhase,
  type MergePreview,
  type MergeProgress,
  type MergeResult,
  type MergeResume,
  type MergeState,
  runMerge,
  type StageRecord,
} from './merge.js';
export { inspectOnnx, type OnnxDescription, type OnnxLayout, type OnnxRange, OnnxSource, type OnnxSourceOptions } from './onnx-source.js';
export { type MergeSourceSpec, openMergeSources, parseSourceSpec } from './open.js';
export { checkSameSources, type MergeMethod, type MergePlan, type MergeSettings, planMerge, type StageKind, type StagePlan, stageConfig } from './plan.js';
export { GeneratorSamplingSource, type SamplingOptions } from './sampling-source.js';
export { type MergeSource, type SourceKind, type SourceNetworks, tensorsSha256, toMergeImages } from './source.js';
export { openModelSource, openRunSource, openTfjsSource, StudioSource } from './studio-source.js';
export { averageTensors, collapseToClass, extendClasses } from './surgery.js';
