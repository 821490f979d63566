/** IPC channel names shared by Electron's main process and preload (kept free of zod). */
export const IPC_INVOKE = 'atelier:invoke';
export const IPC_EVENT = 'atelier:event';
/** Preload → main: absolute paths of files or folders the user dropped onto the window. */
export const IPC_DROP = 'atelier:dropped';
