/** IPC channel names shared by Electron's main process and preload (kept free of zod). */
export const IPC_INVOKE = 'atelier:invoke';
export const IPC_EVENT = 'atelier:event';
