/**
 * A generator's weights as stored in a model row: its own tensors (the Generator's parameter
 * names, 'G.…'), encoded with core/nets/checkpoint-format.ts. From a checkpoint they are its
 * G_ema tensors ('G_ema.…', renamed). Building a Generator from them checks every name and shape.
 */
import { Generator } from '../nets/generator.js';
import { assignNamed, checkTensors, decodeTensors, type NamedArray, readNamed } from '../nets/checkpoint-format.js';
import type { GeneratorMeta } from './meta.js';

/** G_ema's tensors of a checkpoint, named as a Generator names its parameters. */
export function emaTensors(checkpointWeights: Uint8Array, what: string): NamedArray[] {
  const decoded = decodeTensors(checkpointWeights, what);
  const out: NamedArray[] = [];
  for (const [name, t] of decoded) if (name.startsWith('G_ema.')) out.push({ ...t, name: `G.${name.slice('G_ema.'.length)}` });
  if (out.length === 0) throw new Error(`${what} has no G_ema tensors`);
  return out;
}

/** Builds the generator `meta` describes and loads `weights` into it (throws naming what does not fit). */
export function buildGenerator(meta: GeneratorMeta, weights: Uint8Array | ReadonlyMap<string, NamedArray>, what: string): Generator {
  const G = new Generator(meta.net);
  try {
    const decoded = weights instanceof Uint8Array ? decodeTensors(weights, what) : weights;
    const targets = G.params.all().map((p) => ({ name: p.name, variable: p.variable }));
    checkTensors(decoded, targets.map((t) => ({ name: t.name, shape: t.variable.shape })), what);
    assignNamed(decoded, targets);
    return G;
  } catch (err) {
    G.dispose();
    throw err;
  }
}

/** Parameter names and shapes of a generator (what an export must carry). */
export function parameterShapes(G: Generator): Map<string, number[]> {
  return new Map(G.params.all().map((p) => [p.name, [...p.variable.shape]]));
}

/** Every parameter's values, by name (read once, for writing files). */
export async function parameterValues(G: Generator): Promise<Map<string, Float32Array>> {
  const named = await readNamed(G.params.all().map((p) => ({ name: p.name, tensor: p.variable })));
  return new Map(named.map((n) => [n.name, n.data]));
}
