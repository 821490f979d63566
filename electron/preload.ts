/**
 * Preload (sandboxed, context-isolated): exposes a transport and nothing else. The renderer
 * gets `window.atelier.invoke(method, params)` and `window.atelier.subscribe(listener)`.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { AtelierBridge } from '../core/api/bridge.js';
import type { StudioEvent } from '../core/api/contract.js';
import { IPC_DROP, IPC_EVENT, IPC_INVOKE } from '../core/api/channels.js';

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

// Drag and drop: only this isolated preload can turn a dropped File into its path. It sends the
// paths to main, which grants them and tells the renderer (a 'files.dropped' event). The page's
// own scripts cannot forge this: a File they construct has no path.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  const paths = Array.from(e.dataTransfer?.files ?? [])
    .map((f) => webUtils.getPathForFile(f))
    .filter((p) => p !== '');
  if (paths.length > 0) ipcRenderer.send(IPC_DROP, paths);
});
