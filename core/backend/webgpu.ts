/**
 * Starting TF.js's webgpu backend under Node with Dawn (the `webgpu` package).
 *
 * Order: Dawn's default adapter (Vulkan, Metal or D3D12); failing that, Dawn's OpenGL ES backend
 * in compatibility mode (works on Mesa's llvmpipe with EGL_PLATFORM=surfaceless, where lavapipe
 * gives no adapter). A software adapter is refused unless asked for: on a CPU-only machine it is
 * measured ~6× slower than wasm (COMPUTE-NOTES).
 *
 * Dawn writes its warnings ("Couldn't load Vulkan", "… artificially reduced …", Mesa's
 * XDG_RUNTIME_DIR lines) straight to the process's stderr. So a quiet child looks for an adapter
 * first, its stderr dropped; only when it finds one this process asks Dawn itself (or when the
 * user named webgpu and a software adapter is all there is). The answer is kept in the
 * environment, so workers started later do not look again.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';

/** The parts of Dawn's objects used here (the `webgpu` package types them with @webgpu/types). */
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface AdapterLike {
  info?: AdapterInfoLike;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<unknown>;
}
interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}

export type WebGpuStart = { ok: true; detail: string } | { ok: false; reason: string };

// Dawn's GPU object must outlive the backend: keep it reachable for the process's life.
let dawnGpu: GpuLike | undefined;
let success: WebGpuStart | undefined;

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

function describe(info: AdapterInfoLike | undefined, how: string): string {
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s !== undefined && s !== '');
  return `${how}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

/**
 * Dispatches encoded before a submit (TF.js's default: 15). bench/webgpu-sweep.ts on llvmpipe
 * (bench/results/webgpu-sweep-16-llvmpipe.json): every 60 took ~0.76× the step time of every 15,
 * 13 submits a step instead of 48; every 240 was no better. Not yet swept on a real GPU.
 */
export const SUBMIT_BATCH = 60;

/** Where Dawn instance flags to try come from (bench/step --dawn-enable/--dawn-disable sets it). */
export const DAWN_FLAGS_ENV = 'ATELIER_DAWN_FLAGS';

/**
 * Dawn's instance flags: none by default (the toggles bench/step swept did not pay for what they
 * give up, see README § Speed), or `$ATELIER_DAWN_FLAGS`, '|'-separated, e.g.
 * `enable-dawn-features=skip_validation|disable-dawn-features=lazy_clear_resource_on_first_use`.
 */
export function dawnFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[DAWN_FLAGS_ENV] ?? '').split('|').filter((f) => /^(enable|disable)-dawn-features=[a-z0-9_,]+$/.test(f));
}

async function findAdapter(create: (flags: string[]) => GpuLike): Promise<{ gpu: GpuLike; adapter: AdapterLike; how: string } | undefined> {
  const flags = dawnFlags();
  const gpu = create(flags);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter !== null) return { gpu, adapter, how: 'Dawn default adapter' };
  // Mesa's EGL needs a platform without a display server.
  process.env['EGL_PLATFORM'] ??= 'surfaceless';
  const gles = create([...flags, 'backend=opengles']);
  const glesAdapter = await gles.requestAdapter({ featureLevel: 'compatibility' });
  if (glesAdapter !== null) return { gpu: gles, adapter: glesAdapter, how: 'Dawn OpenGL ES (compatibility)' };
  return undefined;
}

/**
 * Registers and sets the `webgpu` backend, or says why it cannot. `allowSoftware`: accept a CPU
 * rasteriser's adapter (only when the user asked for webgpu by name).
 */
export async function startWebGpu(allowSoftware: boolean): Promise<WebGpuStart> {
  if (success !== undefined) {
    await tf.setBackend('webgpu');
    return success;
  }
  const result = await start(allowSoftware);
  if (result.ok) success = result;
  return result;
}

/** What the quiet probe saw: a hardware adapter, only a software one (with its description), none, or it could not tell. */
export type DawnLook = { kind: 'hardware' | 'software'; detail: string } | { kind: 'none' } | { kind: 'unknown'; why: string };

/** The environment variable that carries the probe's answer to child processes. */
export const DAWN_LOOK_ENV = 'ATELIER_DAWN_LOOK';

/** Run in a child: the same adapter search as findAdapter, printing one JSON line. */
const PROBE_SCRIPT = `
const { create } = await import(process.argv[1]);
const SOFTWARE = ${SOFTWARE.toString()};
const describe = (info, how) => [how, ...[info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean)].join(', ');
let a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
let how = 'Dawn default adapter';
if (a === null) {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  a = await create(['backend=opengles']).requestAdapter({ featureLevel: 'compatibility' });
  how = 'Dawn OpenGL ES (compatibility)';
}
const software = a !== null && (a.info?.isFallbackAdapter === true || SOFTWARE.test((a.info?.device ?? '') + ' ' + (a.info?.description ?? '')));
process.stdout.write(JSON.stringify(a === null ? { kind: 'none' } : { kind: software ? 'software' : 'hardware', detail: describe(a.info, how) }) + '\\n');
process.exit(0);
`;

/** Looks for a Dawn adapter in a child process whose stderr is dropped (see the file comment). */
export function quietDawnLook(env: NodeJS.ProcessEnv = process.env): DawnLook {
  const cached = env[DAWN_LOOK_ENV];
  if (cached) {
    try {
      return JSON.parse(cached) as DawnLook;
    } catch {
      // Not ours: look again.
    }
  }
  // Under Electron the executable is not Node (and runAsNode is off): no child to ask.
  if (process.versions['electron'] !== undefined) return { kind: 'unknown', why: 'in Electron' };
  let entry: string;
  try {
    entry = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  } catch (e) {
    return { kind: 'unknown', why: (e as Error).message };
  }
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE_SCRIPT, entry], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
  let look: DawnLook;
  try {
    look = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as DawnLook;
  } catch {
    look = { kind: 'unknown', why: r.error?.message ?? `the probe exited with ${r.signal ?? `code ${r.status}`}` };
  }
  if (look.kind !== 'unknown') env[DAWN_LOOK_ENV] = JSON.stringify(look);
  return look;
}

async function start(allowSoftware: boolean): Promise<WebGpuStart> {
  // Quietly first: nothing in this process touches Dawn unless it will be used.
  const look = quietDawnLook();
  if (look.kind === 'none') return { ok: false, reason: 'no GPU adapter: Dawn found no Vulkan/Metal/D3D12 device and no OpenGL ES one' };
  if (look.kind === 'software' && !allowSoftware) {
    return { ok: false, reason: `only a software adapter (${look.detail}), slower than wasm; ask for webgpu by name to use it anyway` };
  }
  let create: (flags: string[]) => GpuLike;
  let globals: Record<string, unknown>;
  try {
    const mod = (await import('webgpu')) as unknown as { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
    create = mod.create;
    globals = mod.globals;
  } catch (e) {
    return { ok: false, reason: `the 'webgpu' package did not load: ${(e as Error).message}` };
  }
  let found: Awaited<ReturnType<typeof findAdapter>>;
  try {
    found = await findAdapter(create);
  } catch (e) {
    return { ok: false, reason: `Dawn failed while looking for an adapter: ${(e as Error).message}` };
  }
  if (found === undefined) {
    return { ok: false, reason: 'no GPU adapter: Dawn found no Vulkan/Metal/D3D12 device and no OpenGL ES one' };
  }
  const { gpu, adapter, how } = found;
  const detail = describe(adapter.info, how);
  const software = adapter.info?.isFallbackAdapter === true || SOFTWARE.test(`${adapter.info?.device ?? ''} ${adapter.info?.description ?? ''}`);
  if (software && !allowSoftware) {
    return { ok: false, reason: `only a software adapter (${detail}), slower than wasm; ask for webgpu by name to use it anyway` };
  }
  dawnGpu = gpu;
  // The backend uses the browser's WebGPU globals (GPUBufferUsage, GPUMapMode, …).
  for (const [name, value] of Object.entries(globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  // tfjs-backend-webgpu looks for navigator.gpu when it is loaded.
  const nav = (globalThis as unknown as { navigator?: Record<string, unknown> }).navigator;
  if (nav === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawnGpu }, configurable: true, writable: true });
  } else if (nav['gpu'] === undefined) {
    Object.defineProperty(nav, 'gpu', { value: dawnGpu, configurable: true });
  }
  let WebGPUBackend: new (device: never, info?: never) => tf.KernelBackend;
  try {
    const mod = await import('@tensorflow/tfjs-backend-webgpu');
    WebGPUBackend = mod.WebGPUBackend as unknown as typeof WebGPUBackend;
  } catch (e) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-webgpu did not load: ${(e as Error).message}` };
  }
  // Replace the package's own factory: it asks for the default adapter, which may be the wrong one.
  let factoryError: string | undefined;
  if (tf.findBackendFactory('webgpu') != null) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    try {
      const limits = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits['maxComputeWorkgroupStorageSize'],
          maxComputeWorkgroupsPerDimension: limits['maxComputeWorkgroupsPerDimension'],
          maxStorageBufferBindingSize: limits['maxStorageBufferBindingSize'],
          maxBufferSize: limits['maxBufferSize'],
          maxComputeWorkgroupSizeX: limits['maxComputeWorkgroupSizeX'],
          maxComputeInvocationsPerWorkgroup: limits['maxComputeInvocationsPerWorkgroup'],
        },
      });
      return new WebGPUBackend(device as never, adapter.info as never);
    } catch (e) {
      factoryError = (e as Error).message;
      throw e;
    }
  }, 3);
  const ok = await tf.setBackend('webgpu');
  if (!ok) return { ok: false, reason: `the webgpu backend did not start: ${factoryError ?? 'unknown error'}` };
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', SUBMIT_BATCH);
  return { ok: true, detail };
}
