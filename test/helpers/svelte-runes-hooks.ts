/**
 * Module hooks (registered by ./svelte-runes.ts) that compile the renderer's rune modules
 * (`*.svelte.ts`) the way the build does: tsx strips the types first, then Svelte's compiler turns
 * `$state` / `$derived` into its client runtime's signals. Everything else loads untouched.
 */
import { fileURLToPath } from 'node:url';
import { compileModule } from 'svelte/compiler';

interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | ArrayBufferView;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: object) => Promise<LoadResult>;

export async function load(url: string, context: object, nextLoad: NextLoad): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (!/\.svelte\.(ts|js)$/.test(new URL(url).pathname)) return result;
  const source = typeof result.source === 'string' ? result.source : new TextDecoder().decode(result.source);
  const { js } = compileModule(source, { filename: fileURLToPath(url), generate: 'client', dev: false });
  return { format: 'module', source: js.code, shortCircuit: true };
}
