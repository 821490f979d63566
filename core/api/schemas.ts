/**
 * Zod pieces every domain's schemas share: the method declarer, paths, ids, and the gallery's
 * latent specs. Browser-safe: zod only.
 */
import { z } from 'zod';


/** Declares a method: `returns<Result>()(paramsSchema)`; the result is a type only. */
export function returns<R>() {
  return <P extends z.ZodType>(params: P): { params: P; result: R } => ({ params, result: undefined as unknown as R });
}

export const empty = z.object({}).strict();

/**
 * A path as the user picked it (a project file, what to import, where to export): no NUL bytes, a
 * sane length. The service makes it absolute and checks it against its path policy.
 */
export const projectPath = z
  .string()
  .min(1, 'A project path is required.')
  .max(4096, 'The path is longer than 4,096 characters.')
  .refine((p) => !p.includes('\0'), 'The path contains a NUL character.');

export const runId = z.number().int().positive();

const SEED_RANGE = 'Seeds are whole numbers from 0 to 4,294,967,295.';

export const galleryId = z.number().int().positive();
export const gallerySource = z.union([
  z.object({ kind: z.literal('model'), modelId: galleryId }).strict(),
  z.object({ kind: z.literal('checkpoint'), checkpointId: galleryId }).strict(),
]);
export const seedValue = z.number().int(SEED_RANGE).min(0, SEED_RANGE).max(4294967295, SEED_RANGE);
export const psiValue = z.number().min(-2, 'ψ must be between −2 and 2.').max(2, 'ψ must be between −2 and 2.');
export const classValue = z.number().int().min(0).max(100000).nullable();
export const latentRef = z.union([
  z.object({ seed: seedValue, psi: psiValue, classIndex: classValue }).strict(),
  z.object({ itemId: galleryId }).strict(),
]);
export const sampleSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('seed'), seed: seedValue, psi: psiValue, classIndex: classValue }).strict(),
  z.object({ kind: z.literal('interpolate'), from: latentRef, to: latentRef, t: z.number().min(0).max(1), mode: z.enum(['w-linear', 'z-slerp']) }).strict(),
  z
    .object({
      kind: z.literal('arithmetic'),
      terms: z
        .array(z.object({ sign: z.union([z.literal(1), z.literal(-1)]), refs: z.array(latentRef).min(1).max(1000) }).strict())
        .min(1)
        .max(16),
    })
    .strict(),
]);
export const tagName = z.string().trim().min(1, 'The tag is empty.').max(64, 'A tag is at most 64 characters.');
export const modelName = z.string().trim().min(1, 'The model name is empty.').max(200, 'The model name is longer than 200 characters.');
export const requestId = z.string().min(1).max(64);
