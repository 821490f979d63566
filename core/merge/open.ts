/**
 * Opening a merge's sources from their specs: models and runs of the open project, studio TF.js
 * exports and ONNX files on disk. Every source is opened (and an ONNX file probed) before the
 * merge is planned, so a bad one is refused before anything trains; a failure closes those
 * already open. `parseSourceSpec` reads the command line's form of a spec.
 */
import type Database from 'better-sqlite3';
import { UserError } from '../api/errors.js';
import { OnnxSource, type OnnxSourceOptions } from './onnx-source.js';
import type { MergeSource } from './source.js';
import { openModelSource, openRunSource, openTfjsSource } from './studio-source.js';

export type MergeSourceSpec =
  /** A model of the project, by name or id; `classIndex`: the class to sample, for a conditional one (default: all). */
  | { kind: 'model'; model: string | number; classIndex?: number }
  /** A run's checkpoint: `checkpointId`, else its best, else its newest. */
  | { kind: 'run'; runId: number; checkpointId?: number; classIndex?: number }
  /** A TF.js export made by the studio (its folder, model.json or atelier.json). */
  | { kind: 'tfjs'; path: string; classIndex?: number }
  /** A generator made by another tool, as ONNX. */
  | { kind: 'onnx'; path: string; options?: OnnxSourceOptions };

/** Opens every source, in order; `db` is the open project (needed for models and runs). */
export async function openMergeSources(specs: readonly MergeSourceSpec[], o: { db: Database.Database | null }): Promise<MergeSource[]> {
  const opened: MergeSource[] = [];
  try {
    for (const spec of specs) {
      if (spec.kind === 'model' || spec.kind === 'run') {
        if (o.db === null) throw new UserError('no-project', 'Models and runs as merge sources need an open project.');
        opened.push(spec.kind === 'model' ? openModelSource(o.db, spec.model, spec.classIndex) : openRunSource(o.db, spec.runId, spec.checkpointId, spec.classIndex));
      } else if (spec.kind === 'tfjs') {
        opened.push(await openTfjsSource(spec.path, spec.classIndex));
      } else {
        opened.push(await OnnxSource.open(spec.path, spec.options ?? {}));
      }
    }
    return opened;
  } catch (err) {
    for (const s of opened) s.dispose();
    throw err;
  }
}

/**
 * A spec as the command line writes it: `model:NAME`, `run:RUN` or `run:RUN:CHECKPOINT`, a path
 * ending in .onnx (ONNX), any other path (a studio TF.js export).
 */
export function parseSourceSpec(text: string): MergeSourceSpec {
  const t = text.trim();
  if (t.length === 0) throw new UserError('invalid-request', 'An empty merge source: give model:NAME, run:RUN[:CHECKPOINT], a .onnx file or an export folder.', '--sources');
  if (t.startsWith('model:')) {
    const name = t.slice('model:'.length).trim();
    if (name.length === 0) throw new UserError('invalid-request', `"${t}" names no model: write model:NAME.`, '--sources');
    return { kind: 'model', model: name };
  }
  if (t.startsWith('run:')) {
    const m = /^run:(\d+)(?::(\d+))?$/.exec(t);
    if (!m) throw new UserError('invalid-request', `"${t}" is not run:RUN or run:RUN:CHECKPOINT (numbers).`, '--sources');
    return m[2] === undefined ? { kind: 'run', runId: Number(m[1]) } : { kind: 'run', runId: Number(m[1]), checkpointId: Number(m[2]) };
  }
  return /\.onnx$/i.test(t) ? { kind: 'onnx', path: t } : { kind: 'tfjs', path: t };
}
