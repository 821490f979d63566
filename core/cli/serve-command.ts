/** `atelier serve`: the studio in a browser, on 127.0.0.1, behind a token. */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../api/errors.js';
import { defaultAppHome } from '../service/app-home.js';
import { RootedPaths, canonicalPath, isInside, widenHint } from '../service/paths.js';
import { StudioService } from '../service/studio-service.js';
import { startWebHost } from '../server/web-host.js';
import { parseCommand, type CommandIO } from './args.js';

const DEFAULT_PORT = 7777;
export const RENDERER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'out', 'renderer');

export async function serveCommand(argv: string[], io: CommandIO): Promise<number> {
  const usage = 'atelier serve [--port P] [--root DIR] [--project FILE] [--open] [--json]\n\n--root DIR: the folder the file chooser offers, with everything inside it (default: ATELIER_ROOT, else your home folder).';
  const { values } = parseCommand(argv, {
    port: { type: 'string' }, // fixed port; default 7777, or any free one if that is taken
    root: { type: 'string' }, // the folder the file chooser offers (default: ATELIER_ROOT, else your home folder)
    project: { type: 'string' }, // a project to open at start
    open: { type: 'boolean' }, // open the system browser at the URL
  });
  if (values.help) return io.out(usage), 0;
  const explicitPort = values.port !== undefined;
  const port = explicitPort ? Number(values.port) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError('invalid-request', `--port must be a number from 0 to 65535, not "${values.port}".`);

  const root = resolve(typeof values.root === 'string' ? values.root : process.env.ATELIER_ROOT || homedir());
  const paths = new RootedPaths(root);
  const service = new StudioService({ mode: 'browser', appHome: defaultAppHome(), paths });
  if (typeof values.project === 'string') {
    const project = canonicalPath(resolve(values.project));
    if (!isInside(paths.root, project)) throw new UserError('forbidden', `--project ${project} is outside the folder the chooser offers (${paths.root}): pass --root with a folder that holds it.`, project);
    await service.openProject(project);
  }

  const host = await startWebHost({ service, rendererDir: RENDERER_DIR, port }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE' && !explicitPort) return startWebHost({ service, rendererDir: RENDERER_DIR, port: 0 });
    if (err.code === 'EADDRINUSE') throw new UserError('io', `Port ${port} is already in use. Pick another with --port, or leave it out to use a free one.`);
    throw err;
  });

  if (values.json) io.out(JSON.stringify({ ok: true, url: host.url, port: host.port, root }));
  else {
    io.out(`GAN Atelier is running at ${host.url}`);
    io.out(`The file chooser offers ${root}. ${widenHint(root)}`);
    io.out('Press Ctrl+C to stop.');
  }
  if (values.open) openBrowser(host.url);

  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // Running work saves first (training checkpoints), then the project closes: WAL checkpointed.
      void host.close().then(() => service.dispose()).then(done, done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

/** Best effort: the URL is printed either way. */
export function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser launcher: the user opens the printed URL.
  }
}

