// Read by vite-plugin-svelte (Vite's root is renderer/) and by svelte-check.
/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  compilerOptions: {
    runes: true, // Svelte 5 runes everywhere
  },
};
