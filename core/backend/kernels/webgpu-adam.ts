/**
 * Adam's update on webgpu as one WGSL dispatch per variable, updating the parameter and both
 * moments in place (instead of 13 element-wise kernels and 7 scalar uploads per variable). The
 * step's hyperparameters (bias-corrected step size, 1/√(1 − β2^t), β1, β2, ε) go in one uniform
 * buffer per optimiser step, taken from the backend's uniform pool like its own kernels' uniforms.
 *
 * Same arithmetic, in the same order and in float32, as core/train/adam.ts's tensor ops:
 *   m ← m·β1 + g·(1 − β1)      v ← v·β2 + g²·(1 − β2)
 *   p ← p − (m / (√v · c2 + ε)) · stepSize
 *
 * It reaches into tfjs-backend-webgpu 4.22's backend object (its command encoder, compute pass,
 * tensor map and buffer pool); `fusedAdamAvailable()` says whether the running backend has them.
 */
import * as tf from '@tensorflow/tfjs';

/** What one step's update needs besides the tensors. */
export interface AdamHyper {
  /** lr / (1 − β1^t), computed in float64. */
  stepSize: number;
  /** 1 / √(1 − β2^t), computed in float64. */
  invSqrtBc2: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** A variable and its two moments. */
export interface AdamSlotTensors {
  param: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
}

interface TensorDataLike {
  values: unknown;
  resource: unknown;
  refCount: number;
  dtype: string;
  shape: number[];
}

/** The parts of tfjs-backend-webgpu's WebGPUBackend used here. */
interface WebGpuBackendLike {
  device: GPUDeviceLike;
  queue: { writeBuffer(buffer: unknown, offset: number, data: ArrayBuffer): void };
  commandEncoder: { beginComputePass(d: object): ComputePassLike } | null;
  computePassEncoder: ComputePassLike | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  uniformPendingDisposal: unknown[];
  activeTimers: unknown;
  bufferManager: { acquireBuffer(size: number, usage: number): { size: number } };
  tensorMap: { get(dataId: object): TensorDataLike | undefined };
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}
interface GPUDeviceLike {
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: object): { getBindGroupLayout(i: number): unknown };
  createBindGroup(d: object): unknown;
}
interface ComputePassLike {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
}

const WORKGROUP = 64;
const MAX_GROUPS_X = 65535;

const SHADER = /* wgsl */ `
struct Hyper {
  stepSize: f32,
  invSqrtBc2: f32,
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  epsilon: f32,
  pad: f32,
};
@group(0) @binding(0) var<storage, read_write> p: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<uniform> h: Hyper;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * ${WORKGROUP}u;
  if (i >= arrayLength(&p)) {
    return;
  }
  let gi = g[i];
  let mi = m[i] * h.beta1 + gi * h.oneMinusBeta1;
  let vi = v[i] * h.beta2 + (gi * gi) * h.oneMinusBeta2;
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) * h.invSqrtBc2 + h.epsilon;
  p[i] = p[i] - (mi / denom) * h.stepSize;
}
`;

// GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST (the constants, without needing Dawn's globals here).
const UNIFORM_USAGE = 0x0040 | 0x0008;

const pipelines = new WeakMap<object, { getBindGroupLayout(i: number): unknown }>();

/** Listeners told of each dispatch made here (the dispatch counter subscribes). */
export const customDispatchListeners = new Set<(kernel: string) => void>();

function webgpuBackend(): WebGpuBackendLike | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  const b = tf.backend() as unknown as Partial<WebGpuBackendLike>;
  const needed: Array<keyof WebGpuBackendLike> = ['device', 'queue', 'tensorMap', 'bufferManager', 'uploadToGPU', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue'];
  return needed.every((k) => b[k] !== undefined) ? (b as WebGpuBackendLike) : undefined;
}

/** True when the running backend is webgpu with the internals this kernel uses (and no tf.profile timing it). */
export function fusedAdamAvailable(): boolean {
  const b = webgpuBackend();
  return b !== undefined && b.activeTimers == null;
}

function pipelineFor(b: WebGpuBackendLike): { getBindGroupLayout(i: number): unknown } {
  let p = pipelines.get(b.device as object);
  if (p === undefined) {
    const module = b.device.createShaderModule({ code: SHADER });
    p = b.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    pipelines.set(b.device as object, p);
  }
  return p;
}

/**
 * A variable whose data no other tensor shares, so it may be written in place: when shared (a
 * variable assigned from another, a kept reshape), it gets a fresh copy first, once.
 */
function ownData(b: WebGpuBackendLike, x: tf.Variable): void {
  const d = b.tensorMap.get(x.dataId);
  if (d !== undefined && d.refCount <= 1) return;
  const copy = tf.tidy(() => tf.add(x, tf.zerosLike(x)));
  x.assign(copy);
  copy.dispose();
}

/**
 * Updates every slot in place with its gradient: one dispatch each, one uniform write in all.
 * `grads[i]` belongs to `slots[i]`; shapes must match. Call only when fusedAdamAvailable().
 */
export function fusedAdamUpdate(slots: readonly AdamSlotTensors[], grads: readonly tf.Tensor[], hyper: AdamHyper): void {
  const b = webgpuBackend();
  if (b === undefined) throw new Error('fused Adam needs the webgpu backend');
  if (slots.length === 0) return;
  const pipeline = pipelineFor(b);
  const layout = pipeline.getBindGroupLayout(0);

  // First make every tensor GPU-resident and privately owned (this may run kernels and submit).
  slots.forEach((slot, i) => {
    const g = grads[i] as tf.Tensor;
    const n = slot.param.size;
    if (g.size !== n || slot.m.size !== n || slot.v.size !== n) throw new Error(`fused Adam: sizes differ for ${slot.param.name}`);
    for (const x of [slot.param, slot.m, slot.v]) ownData(b, x);
    for (const t of [slot.param, slot.m, slot.v, g]) b.uploadToGPU(t.dataId);
  });

  // The step's uniforms: one buffer, from the backend's pool, released after the submit that
  // runs the dispatches reading it (a fresh one if a submit falls between them).
  const h = new Float32Array([hyper.stepSize, hyper.invSqrtBc2, hyper.beta1, 1 - hyper.beta1, hyper.beta2, 1 - hyper.beta2, hyper.epsilon, 0]);
  let uniform: { size: number } | null = null;

  slots.forEach((slot, i) => {
    const g = grads[i] as tf.Tensor;
    const n = slot.param.size;
    if (uniform === null) {
      uniform = b.bufferManager.acquireBuffer(h.byteLength, UNIFORM_USAGE);
      b.queue.writeBuffer(uniform, 0, h.buffer);
      b.uniformPendingDisposal.push(uniform);
    }
    const tensors = [slot.param, slot.m, slot.v, g];
    const entries: Array<{ binding: number; resource: { buffer: unknown; offset: number; size: number } }> = tensors.map((t, k) => ({
      binding: k,
      resource: { buffer: (b.tensorMap.get(t.dataId) as TensorDataLike).resource, offset: 0, size: n * 4 },
    }));
    entries.push({ binding: 4, resource: { buffer: uniform, offset: 0, size: h.byteLength } });
    const bindGroup = b.device.createBindGroup({ layout, entries });

    b.ensureCommandEncoderReady();
    if (b.computePassEncoder === null || b.computePassEncoder === undefined) {
      b.computePassEncoder = (b.commandEncoder as { beginComputePass(d: object): ComputePassLike }).beginComputePass({});
    }
    const groups = Math.ceil(n / WORKGROUP);
    const x = Math.min(groups, MAX_GROUPS_X);
    const y = Math.ceil(groups / x);
    b.computePassEncoder.setPipeline(pipeline);
    b.computePassEncoder.setBindGroup(0, bindGroup);
    b.computePassEncoder.dispatchWorkgroups(x, y, 1);
    for (const t of tensors) b.commandQueueOwnedIds.add(t.dataId);
    // Written on the GPU: a copy read back earlier is stale.
    for (const t of [slot.param, slot.m, slot.v]) (b.tensorMap.get(t.dataId) as TensorDataLike).values = null;
    for (const listener of customDispatchListeners) listener('FusedAdam');
    b.dispatchCountInPass++;
    if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= b.dispatchCountInPass) {
      b.endComputePassEncoder();
      b.submitQueue();
      uniform = null;
    }
  });
}
