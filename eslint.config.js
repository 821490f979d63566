// Lint: typescript-eslint's recommended rules, Svelte's, and the runtime boundaries of
// ARCHITECTURE.md — core/ never imports Electron or the DOM; renderer/ never imports Node.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

const nodeModules = ['node:*', 'fs', 'fs/promises', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'http', 'net', 'url', 'util', 'stream'];

export default tseslint.config(
  // .gpu, .gl: the device checks' payload (bench/device/pack.js), git-ignored locally
  { ignores: ['node_modules/', 'out/', 'dist/', '**/*.d.ts', 'test-results/', '.gpu/', '.gl/', '.bench-out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['core/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['electron', 'svelte', 'svelte/*'], message: 'core/ runs in plain Node: no Electron, no UI.' }] }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage'],
    },
  },
  {
    // Scripts shipped inside exports (the standalone HTML sampler runs in a plain browser page).
    files: ['core/export/assets/*.js'],
    languageOptions: { globals: { ...globals.browser, tf: 'readonly' }, sourceType: 'script' },
    rules: { 'no-restricted-globals': 'off', 'no-var': 'off' },
  },
  {
    files: ['renderer/src/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeModules, message: 'The renderer has no Node: ask the core service through IBackend.' },
            { group: ['electron', 'better-sqlite3', 'sharp', 'ws', '@tensorflow/*'], message: 'The renderer talks to the core only through StudioApi.' },
            { group: ['**/core/*', '!**/core/api', '**/core/*/**', '!**/core/api/**'], message: 'The renderer may import only core/api (the contract).' },
          ],
        },
      ],
      // Values from a schema module would bundle zod, whose start-up probe for eval trips the CSP:
      // types only from those; values from the zod-free vocabulary and options table.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['contract', 'project', 'dataset', 'train', 'metrics', 'gallery', 'models', 'schemas', 'dispatch'].map((m) => `**/core/api/${m}.js`),
              allowTypeImports: true,
              message: 'Import types only from the schema modules; values come from core/api/vocabulary.js and core/api/train-options.js (zod-free).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/preload.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/core/*/**', '!**/core/api/**'], message: 'The preload is a transport only.' }] }] },
  },
);
