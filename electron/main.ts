/**
 * Electron's main process: the desktop shell around the core service. A thin seam — the window,
 * its security settings, native dialogs and the IPC wiring. Everything behind it (the service,
 * the dispatcher, the sender check) is plain core code, tested without Electron.
 */
import { BrowserWindow, app, dialog, ipcMain, protocol, session, shell } from 'electron';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC_DROP, IPC_EVENT, IPC_INVOKE } from '../core/api/channels.js';
import { createDispatcher } from '../core/api/dispatch.js';
import { APP_ORIGIN, createIpcHandler, isTrustedSenderUrl } from '../core/api/ipc-guard.js';
import { isAllowedExternalUrl, isAppUrl } from '../core/api/window-guard.js';
import { GrantedPaths } from '../core/service/paths.js';
import { StudioService } from '../core/service/studio-service.js';
import { rendererFile } from '../core/server/renderer-path.js';
import { RENDERER_CSP } from '../core/server/security.js';
import { installUtilityProcessSpawner } from './worker-spawner.js';

const here = dirname(fileURLToPath(import.meta.url)); // out/electron
const RENDERER_DIR = join(here, '..', 'renderer'); // out/renderer
const PRELOAD = join(here, 'preload.cjs');
const SCHEME = new URL(APP_ORIGIN).protocol.replace(':', ''); // 'atelier'

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

// A standard, secure scheme: the renderer gets a real origin (atelier://app) instead of file://.
protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

// Nothing else may be embedded, navigated to (by a link, a redirect or a frame) or opened from
// any web contents; the listed documentation hosts open in the system browser (core/api/window-guard.ts).
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const stayHome = (e: { preventDefault(): void; url?: string }, url?: string): void => {
    if (!isAppUrl(url ?? e.url)) e.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-frame-navigate', (e) => stayHome(e));
});

let mainWindow: BrowserWindow | null = null;

async function serveRenderer(request: Request): Promise<Response> {
  const url = new URL(request.url);
  // The same resolution as the browser mode's: a malformed %-escape is a 400, never a throw.
  const found = rendererFile(RENDERER_DIR, url.pathname);
  if (found === null) return new Response('Bad path', { status: 400 });
  const { file } = found;
  if (url.host !== 'app' || file === null) return new Response('Not found', { status: 404 });
  try {
    const body = await readFile(file);
    return new Response(body, {
      headers: { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': RENDERER_CSP },
    });
  } catch {
    return new Response('Not found', { status: 404 });
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    title: 'GAN Atelier',
    show: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

async function main(): Promise<void> {
  await app.whenReady();
  // Engine workers run in utility processes (they need no RunAsNode).
  installUtilityProcessSpawner();

  // The window asks for no permissions (camera, notifications, …): refuse them all, asked for or checked.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  protocol.handle(SCHEME, serveRenderer);

  const paths = new GrantedPaths();
  const parent = (): BrowserWindow | undefined => mainWindow ?? undefined;
  const openDialog = (options: Electron.OpenDialogOptions) => {
    const win = parent();
    return win ? dialog.showOpenDialog(win, options) : dialog.showOpenDialog(options);
  };
  const saveDialog = (options: Electron.SaveDialogOptions) => {
    const win = parent();
    return win ? dialog.showSaveDialog(win, options) : dialog.showSaveDialog(options);
  };
  const service = new StudioService({
    mode: 'desktop',
    appHome: app.getPath('userData'),
    paths,
    pickProject: async (mode, suggestedName) => {
      const filters = [{ name: 'GAN Atelier project', extensions: ['atelier'] }];
      if (mode === 'open') {
        const r = await openDialog({ title: 'Open project', properties: ['openFile'], filters });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      }
      const r = await saveDialog({ title: 'New project', defaultPath: `${suggestedName ?? 'Untitled'}.atelier`, filters });
      return r.canceled ? null : (r.filePath ?? null);
    },
    pickImportSources: async (kind) => {
      const r =
        kind === 'folder'
          ? await openDialog({ title: 'Import a folder', properties: ['openDirectory'] })
          : await openDialog({
              title: 'Import images',
              properties: ['openFile', 'multiSelections'],
              filters: [
                { name: 'Images, DICOM and archives', extensions: ['png', 'jpg', 'jpeg', 'webp', 'avif', 'tif', 'tiff', 'gif', 'dcm', 'dicom', 'zip'] },
                { name: 'All files', extensions: ['*'] },
              ],
            });
      return r.canceled ? [] : r.filePaths;
    },
    pickExportPath: async (suggestedName) => {
      const r = await saveDialog({ title: 'Export', defaultPath: suggestedName });
      return r.canceled ? null : (r.filePath ?? null);
    },
    pickModelImport: async () => {
      // The folder of a TF.js export made by the studio, or its model.json.
      const r = await openDialog({
        title: 'Import a model',
        properties: ['openFile', 'openDirectory'],
        filters: [
          { name: 'GAN Atelier export (model.json)', extensions: ['json'] },
          { name: 'All files', extensions: ['*'] },
        ],
      });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    pickMergeSource: async () => {
      // A generator made by another tool (.onnx), or a studio TF.js export (its folder or model.json).
      const r = await openDialog({
        title: 'Add a generator to merge',
        properties: ['openFile', 'openDirectory'],
        filters: [
          { name: 'Generators (.onnx, model.json)', extensions: ['onnx', 'json'] },
          { name: 'All files', extensions: ['*'] },
        ],
      });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  });

  const handle = createIpcHandler(createDispatcher(service.handlers()));
  ipcMain.handle(IPC_INVOKE, (event, method: unknown, params: unknown) =>
    handle({ url: event.senderFrame?.url, isMainFrame: event.senderFrame?.parent === null }, method, params),
  );
  service.subscribe((ev) => mainWindow?.webContents.send(IPC_EVENT, ev));
  // Paths dropped onto the window, read by the preload: granted, then announced to the renderer.
  ipcMain.on(IPC_DROP, (event, dropped: unknown) => {
    if (event.senderFrame?.parent !== null || !isTrustedSenderUrl(event.senderFrame?.url)) return;
    if (!Array.isArray(dropped) || !dropped.every((p): p is string => typeof p === 'string' && p.length > 0 && p.length <= 4096)) return;
    for (const p of dropped) paths.grant(p, 'read');
    mainWindow?.webContents.send(IPC_EVENT, { type: 'files.dropped', paths: dropped });
  });

  mainWindow = createWindow();
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
  app.on('activate', () => {
    if (!mainWindow) mainWindow = createWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Before quitting, running training saves a checkpoint and the project closes (WAL checkpointed).
  let disposed = false;
  app.on('before-quit', (event) => {
    if (disposed) return;
    event.preventDefault();
    void service.dispose().finally(() => {
      disposed = true;
      app.quit();
    });
  });
}

void main();
