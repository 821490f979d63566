/// <reference types="svelte" />
import type { AtelierBridge } from '../../core/api/bridge.js';

declare global {
  interface Window {
    /** Electron's preload transport; absent in a plain browser. */
    atelier?: AtelierBridge;
  }
}

export {};
