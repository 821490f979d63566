#!/usr/bin/env node
// The `atelier` command: runs the TypeScript CLI through tsx's loader (no build step needed).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../core/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) });
