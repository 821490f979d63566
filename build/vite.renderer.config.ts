/**
 * Builds the renderer into out/renderer: one page, ES modules, CSS in files (the CSP allows no
 * inline script or style). `base: './'` keeps every URL relative, so the same build loads from
 * `atelier serve` and from Electron's custom protocol.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';
import { RENDERER_CSP } from '../core/server/security.ts';

/** Directives a <meta> policy cannot carry (browsers ignore them there and log an error). */
const HEADER_ONLY_DIRECTIVES = new Set(['frame-ancestors', 'report-uri', 'report-to', 'sandbox']);

/** RENDERER_CSP as a <meta> tag may state it; the server's header sends the full policy. */
export function metaCsp(policy: string): string {
  return policy
    .split(';')
    .map((d) => d.trim())
    .filter((d) => d !== '' && !HEADER_ONLY_DIRECTIVES.has(d.split(/\s+/)[0] ?? ''))
    .join('; ');
}

/** Writes the policy into index.html, right after the charset, from the one constant both hosts use. */
function contentSecurityPolicy(): Plugin {
  const anchor = '<meta charset="utf-8" />';
  const content = metaCsp(RENDERER_CSP).replaceAll('&', '&amp;').replaceAll('"', '&quot;');
  return {
    name: 'atelier-csp',
    apply: 'build', // the dev server injects inline styles; the policy is for what ships
    transformIndexHtml: {
      order: 'pre',
      handler(html) {
        if (!html.includes(anchor)) throw new Error(`renderer/index.html must contain ${anchor} (the CSP goes right after it).`);
        return html.replace(anchor, `${anchor}\n    <meta http-equiv="Content-Security-Policy" content="${content}" />`);
      },
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('../renderer/', import.meta.url)),
  base: './',
  publicDir: 'public',
  plugins: [svelte(), contentSecurityPolicy()],
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    target: 'es2022',
    cssCodeSplit: false, // one stylesheet
    modulePreload: { polyfill: false }, // Chromium only: no inline polyfill needed
    assetsInlineLimit: 0, // no data: URLs for fonts or scripts
    // No "[PLUGIN_TIMINGS] JavaScript callbacks ran for …" block on every start: timing is bench/'s job.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
