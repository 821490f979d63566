/**
 * Browser tests' harness: the real `atelier serve` in a child process, Debian's Chromium through
 * playwright-core (never a downloaded browser), and per-page records of what a user would call
 * broken: console errors, uncaught exceptions, Content-Security-Policy violations.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RENDERER_INDEX = join(REPO_ROOT, 'out', 'renderer', 'index.html');
export const CHROMIUM = process.env.ATELIER_CHROMIUM ?? '/usr/bin/chromium';

/** Fails at once, with what to do, when the renderer has not been built. */
export function requireRendererBuild(): void {
  if (!existsSync(RENDERER_INDEX)) {
    throw new Error(`${RENDERER_INDEX} does not exist: run npm run build:renderer first.`);
  }
}

/** A scratch folder (symlinks resolved, as the server reports paths). Removed by `cleanup`. */
export function tempDir(prefix: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

export function cleanup(...dirs: Array<string | undefined>): void {
  for (const d of dirs) if (d) rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Fixtures through the command line (fast: no browser in the way).

const EMOJI_ROOT = join(REPO_ROOT, 'node_modules', 'emoji-datasource-twitter');

/** Copies the first `count` Twemoji (64 px PNGs) of `category`, in the set's order, into `dir`; returns their file names. */
export function copyEmoji(dir: string, category: string, count: number): string[] {
  const all = JSON.parse(readFileSync(join(EMOJI_ROOT, 'emoji.json'), 'utf8')) as Array<{ image: string; category: string; sort_order: number; has_img_twitter: boolean }>;
  const picked = all
    .filter((e) => e.has_img_twitter && e.category === category)
    .sort((a, b) => a.sort_order - b.sort_order)
    .slice(0, count);
  if (picked.length < count) throw new Error(`emoji-datasource-twitter has only ${picked.length} images in "${category}".`);
  mkdirSync(dir, { recursive: true });
  for (const e of picked) copyFileSync(join(EMOJI_ROOT, 'img', 'twitter', '64', e.image), join(dir, e.image));
  return picked.map((e) => e.image);
}

/** Runs `atelier <args…> --json` and returns its JSON document; rejects with its output when it fails. */
export function atelier<T = Record<string, unknown>>(args: string[], timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(REPO_ROOT, 'bin', 'atelier.js'), ...args, '--json'], { cwd: REPO_ROOT, timeout: timeoutMs }, (err, stdout, stderr) => {
      let doc: { ok?: boolean } | null = null;
      try {
        doc = JSON.parse(stdout) as { ok?: boolean };
      } catch {
        doc = null;
      }
      if (err || !doc || doc.ok === false) reject(new Error(`atelier ${args.join(' ')} failed: ${err?.message ?? ''}\nstdout: ${stdout}\nstderr: ${stderr}`));
      else resolve(doc as T);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The server.

export interface Server {
  /** The address `atelier serve` printed, token included. */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  token: string;
  /** The chooser's root folder, as the server reports it. */
  root: string;
  /** SIGTERM, then waits for the exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
}

export interface ServerOptions {
  /** The folder the file chooser offers (--root). */
  root: string;
  /** ATELIER_HOME: where the recent list is kept. */
  home: string;
  /** How long to wait for the JSON line, in ms. */
  timeoutMs?: number;
  /** More environment for the server (e.g. HOME, for the chooser's places). */
  env?: NodeJS.ProcessEnv;
}

export async function startServer({ root, home, timeoutMs = 20_000, env = {} }: ServerOptions): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'atelier.js'), 'serve', '--port', '0', '--root', root, '--json'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ATELIER_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const info = await new Promise<{ url: string; port: number; root: string }>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`atelier serve printed no address within ${timeoutMs} ms.\nstdout: ${stdout}\nstderr: ${stderr}`)), timeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    }
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(stdout.slice(0, nl)) as { ok: boolean; url: string; port: number; root: string };
        if (!parsed.ok) throw new Error(stdout);
        resolve(parsed);
      } catch (err) {
        fail(new Error(`atelier serve printed something other than its JSON line: ${stdout}\nstderr: ${stderr}\n${String(err)}`));
      }
    });
    void exited.then((code) => fail(new Error(`atelier serve exited (code ${code}) before printing its address.\nstderr: ${stderr}`)));
  });

  const url = new URL(info.url);
  const token = url.searchParams.get('token');
  if (!token) throw new Error(`The printed address has no token: ${info.url}`);
  return {
    url: info.url,
    origin: url.origin,
    port: info.port,
    token,
    root: info.root,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
      const outcome = await Promise.race([exited, timeout]);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`atelier serve did not exit within 10 s of SIGTERM.\nstderr: ${stderr}`);
      }
      return outcome;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The browser.

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium).`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** What went wrong on one page, as a user (or the console) would see it. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  cspViolations: string[];
}

export interface WatchedPage {
  page: Page;
  problems: PageProblems;
  /** Stops recording (e.g. before stopping the server on purpose). */
  stopWatching(): void;
}

const CSP_BINDING = '__atelierTestCspViolation';

/** A browser context whose pages report CSP violations to the test. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light', locale: 'en-GB' });
  context.setDefaultTimeout(10_000); // generous: CI machines are shared
  const sinks = new WeakMap<Page, string[]>();
  (context as ContextWithSinks)[SINKS] = sinks;
  await context.exposeBinding(CSP_BINDING, ({ page }, text: string) => {
    sinks.get(page)?.push(text);
  });
  // Runs before any page script, outside the page's CSP (injected by the browser's devtools).
  await context.addInitScript((binding: string) => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as Record<string, (text: string) => void>)[binding];
      report?.(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile || 'document'}:${e.lineNumber})`);
    });
  }, CSP_BINDING);
  return context;
}

const SINKS = Symbol('cspSinks');
type ContextWithSinks = BrowserContext & { [SINKS]?: WeakMap<Page, string[]> };

/** Opens a page in `context` and records its console errors, exceptions and CSP violations. */
export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], cspViolations: [] };
  let watching = true;
  (context as ContextWithSinks)[SINKS]?.set(page, problems.cspViolations);
  page.on('console', (msg) => {
    if (watching && msg.type() === 'error') problems.consoleErrors.push(`${msg.text()} @ ${msg.location().url}`);
  });
  page.on('pageerror', (err) => {
    if (watching) problems.pageErrors.push(err.stack ?? err.message);
  });
  return {
    page,
    problems,
    stopWatching() {
      watching = false;
      (context as ContextWithSinks)[SINKS]?.delete(page);
    },
  };
}

/** Everything recorded, as one list; empty when the page was clean. */
export function listProblems(problems: PageProblems): string[] {
  return [
    ...problems.consoleErrors.map((m) => `console error: ${m}`),
    ...problems.pageErrors.map((m) => `uncaught: ${m}`),
    ...problems.cspViolations.map((m) => `CSP violation: ${m}`),
  ];
}

// ---------------------------------------------------------------------------------------------
// A studio with a small emoji project, for the training tests.

export interface EmojiStudio {
  browser: Browser;
  server: Server;
  /** The served folder (the project file is in it). */
  root: string;
  /** The project file. */
  project: string;
  /** The server's ATELIER_HOME (per-user state: the recent list, the speed table). */
  home: string;
  close(): Promise<void>;
}

/**
 * `count` Twemoji of `category` imported at `resolution`² into `<root>/<name>.atelier` (near-duplicate
 * dropping off: at 16 × 16 a few Twemoji look alike, and the tests want them all), then a browser
 * and `atelier serve` on the folder.
 */
export async function emojiStudio(tag: string, name: string, count: number, category = 'Animals & Nature', resolution = 16): Promise<EmojiStudio> {
  requireRendererBuild();
  const root = tempDir(`atelier-e2e-${tag}-root-`);
  const home = tempDir(`atelier-e2e-${tag}-home-`);
  const folder = join(root, 'images');
  copyEmoji(folder, category, count);
  const project = join(root, `${name}.atelier`);
  await atelier(['new', project]);
  const imported = await atelier<{ imported: number }>(['import', project, folder, '--resolution', String(resolution), '--near-threshold', 'off']);
  if (imported.imported !== count) throw new Error(`the fixture imported ${imported.imported} of ${count} images`);
  const [browser, server] = await Promise.all([launchBrowser(), startServer({ root, home })]);
  return {
    browser,
    server,
    root,
    project,
    home,
    close: async () => {
      await server.stop();
      await browser.close();
      cleanup(root, home);
    },
  };
}

/**
 * Fills fields by their label inside `within` (a form, a fieldset): a menu gets the option with
 * that value, any other field the text. In the order given, as a user would.
 */
export async function fillByLabel(within: Locator, fields: Record<string, string>): Promise<void> {
  for (const [label, value] of Object.entries(fields)) {
    const field = within.getByLabel(label);
    if ((await field.evaluate((el) => el.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
}

/** Opens `<fileName>` through the Projects view's chooser, as a user does, and waits until it is open. */
export async function openProject(page: Page, fileName: string, path: string): Promise<void> {
  await page.getByRole('button', { name: 'Open project…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open project' });
  const escaped = fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await dialog.getByRole('listbox').getByRole('option', { name: new RegExp(escaped) }).click();
  await dialog.getByRole('button', { name: 'Open', exact: true }).click();
  await page.getByTestId('project-path').filter({ hasText: path }).waitFor();
}

/**
 * The opening most studio tests share: a fresh context (closed when the test ends), a watched page
 * on the server, and `fileName` opened from the Projects view as a user does.
 */
export async function pageWithProject(t: { after(fn: () => unknown): void }, browser: Browser, url: string, fileName: string, path: string): Promise<WatchedPage> {
  const context = await newContext(browser);
  t.after(() => context.close());
  const w = await watchedPage(context);
  await w.page.goto(url);
  await openProject(w.page, fileName, path);
  return w;
}

/** Goes to a section of the studio (Train, Merge, Gallery, …) from its navigation. */
export async function goToSection(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name }).click();
}
