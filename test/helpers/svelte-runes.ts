/**
 * Lets a Node test import the renderer's rune modules (`*.svelte.ts`: state classes with `$state`
 * and `$derived`), compiled as the build compiles them. Import this first, then the modules with
 * a dynamic `import()` (static imports are loaded before this file runs):
 *
 *   import '../../helpers/svelte-runes.js';
 *   const { SeriesFeed } = await import('../../../renderer/src/lib/state/series-feed.svelte.js');
 */
/// <reference types="svelte" />
import { register } from 'node:module';

register('./svelte-runes-hooks.ts', import.meta.url);
