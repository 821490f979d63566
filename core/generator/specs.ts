/**
 * From what the user asked for (SampleSpec: a seed, an interpolation frame, latent arithmetic) to
 * latents the sampler renders. Kept items are looked up by id; they must come from the generator
 * being sampled. End points are exact: an interpolation at t = 0 or 1, or arithmetic with one
 * term of one item, gives exactly the latent it started from (core/generator/latents.ts).
 */
import type { LatentRef, SampleSpec } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { ItemLatents } from '../store/gallery.js';
import { combine, lerp, meanOf, seedToZ, slerp } from './latents.js';
import { checkClass, type GeneratorMeta } from './meta.js';
import { type Latent, oneHot } from './sampler.js';

export interface SpecContext {
  meta: GeneratorMeta;
  /** A kept item's latents (throws when there is none). */
  item(id: number): ItemLatents;
  /** Whether a kept item was made by the generator being sampled. */
  compatible(item: ItemLatents): boolean;
  /** w after ψ for z latents (the sampler's). */
  wOf(latents: ReadonlyArray<Extract<Latent, { kind: 'z' }>>): Promise<Float32Array[]>;
}

export interface ResolvedSpec {
  spec: SampleSpec;
  latent: Latent;
  origin: 'seed' | 'interpolation' | 'arithmetic';
  seed: number | null;
  psi: number | null;
  classIndex: number | null;
  /** The z the image came from, when there is one. */
  z: Float32Array | null;
}

/** One end of an interpolation or one member of a term, with what it can offer. */
interface RefLatents {
  z: Float32Array | null;
  cls: Float32Array | null;
  psi: number | null;
  classIndex: number | null;
  seed: number | null;
  w: () => Promise<Float32Array>;
}

/** Resolves specs in order; seeds' w are cached within the call. */
export async function resolveSpecs(specs: readonly SampleSpec[], ctx: SpecContext): Promise<ResolvedSpec[]> {
  const { meta } = ctx;
  const wCache = new Map<string, Promise<Float32Array>>();

  const refLatents = (ref: LatentRef): RefLatents => {
    if ('itemId' in ref) {
      const item = ctx.item(ref.itemId);
      if (!ctx.compatible(item)) {
        throw new UserError('invalid-request', `Kept item ${ref.itemId} was made by another generator; interpolation and latent arithmetic work between images of the generator open in the gallery.`);
      }
      const blended = meta.net.numClasses > 0 && item.classIndex === null; // made between two classes
      return { z: blended ? null : item.z, cls: item.z === null || blended ? null : oneHot(meta, item.classIndex), psi: item.psi, classIndex: item.classIndex, seed: item.seed, w: async () => item.w };
    }
    const classIndex = checkClass(meta, ref.classIndex);
    const z = seedToZ(ref.seed, meta.net.zDim);
    const cls = oneHot(meta, classIndex);
    const key = `${ref.seed}|${ref.psi}|${classIndex}`;
    return {
      z,
      cls,
      psi: ref.psi,
      classIndex,
      seed: ref.seed,
      w: () => {
        let p = wCache.get(key);
        if (p === undefined) {
          p = ctx.wOf([{ kind: 'z', z, cls, psi: ref.psi }]).then((ws) => ws[0]!);
          wCache.set(key, p);
        }
        return p;
      },
    };
  };

  const out: ResolvedSpec[] = [];
  for (const spec of specs) {
    if (spec.kind === 'seed') {
      const classIndex = checkClass(meta, spec.classIndex);
      const z = seedToZ(spec.seed, meta.net.zDim);
      out.push({ spec, latent: { kind: 'z', z, cls: oneHot(meta, classIndex), psi: spec.psi }, origin: 'seed', seed: spec.seed, psi: spec.psi, classIndex, z });
    } else if (spec.kind === 'interpolate') {
      const a = refLatents(spec.from);
      const b = refLatents(spec.to);
      const t = spec.t;
      const sameClass = a.classIndex === b.classIndex ? a.classIndex : null;
      if (spec.mode === 'w-linear') {
        const w = lerp(await a.w(), await b.w(), t);
        out.push({ spec, latent: { kind: 'w', w }, origin: 'interpolation', seed: null, psi: a.psi === b.psi ? a.psi : null, classIndex: sameClass, z: null });
      } else {
        if (a.z === null || b.z === null || a.psi === null || b.psi === null) {
          throw new UserError('invalid-request', 'Spherical interpolation in z needs two images made from seeds (of one class each); one of these was made by interpolation or arithmetic. Use "linear in w" instead.');
        }
        const z = slerp(a.z, b.z, t);
        const cls = a.cls === null || b.cls === null ? null : lerp(a.cls, b.cls, t);
        const psi = (1 - t) * a.psi + t * b.psi;
        out.push({ spec, latent: { kind: 'z', z, cls, psi }, origin: 'interpolation', seed: t === 0 ? a.seed : t === 1 ? b.seed : null, psi, classIndex: t === 0 ? a.classIndex : t === 1 ? b.classIndex : sameClass, z });
      }
    } else {
      const terms: Array<{ sign: 1 | -1; latent: Float32Array }> = [];
      const classes = new Set<number | null>();
      for (const term of spec.terms) {
        const refs = term.refs.map(refLatents);
        for (const r of refs) classes.add(r.classIndex);
        terms.push({ sign: term.sign, latent: meanOf(await Promise.all(refs.map((r) => r.w()))) });
      }
      const w = combine(terms);
      out.push({ spec, latent: { kind: 'w', w }, origin: 'arithmetic', seed: null, psi: null, classIndex: classes.size === 1 ? [...classes][0]! : null, z: null });
    }
  }
  return out;
}
