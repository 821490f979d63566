/**
 * Starting TF.js's webgpu backend under Node with Dawn (the `webgpu` package).
 *
 * Order: Dawn's default adapter (Vulkan, Metal or D3D12); failing that, Dawn's OpenGL ES backend
 * in compatibility mode (works on Mesa's llvmpipe with EGL_PLATFORM=surfaceless, where lavapipe
 * gives no adapter). A software adapter is refused unless asked for: on a CPU-only machine it is
 * measured ~6× slower than wasm (COMPUTE-NOTES).
 */
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

async function findAdapter(create: (flags: string[]) => GpuLike): Promise<{ gpu: GpuLike; adapter: AdapterLike; how: string } | undefined> {
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter !== null) return { gpu, adapter, how: 'Dawn default adapter' };
  // Mesa's EGL needs a platform without a display server.
  process.env['EGL_PLATFORM'] ??= 'surfaceless';
  const gles = create(['backend=opengles']);
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

async function start(allowSoftware: boolean): Promise<WebGpuStart> {
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
  return { ok: true, detail };
}
