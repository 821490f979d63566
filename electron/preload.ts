/**
 * Preload (sandboxed, context-isolated): exposes a transport and nothing else. The renderer
 * gets `window.atelier.invoke(method, params)` and `window.atelier.subscribe(listener)`.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { AtelierBridge } from '../core/api/bridge.js';
import type { StudioEvent } from '../core/api/contract.js';
import { IPC_EVENT, IPC_INVOKE } from '../core/api/channels.js';

const bridge: AtelierBridge = {
  invoke: (method, params) => ipcRenderer.invoke(IPC_INVOKE, method, params),
  subscribe: (listener) => {
    const handler = (_event: IpcRendererEvent, payload: StudioEvent): void => listener(payload);
    ipcRenderer.on(IPC_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, handler);
    };
  },
};

contextBridge.exposeInMainWorld('atelier', bridge);
