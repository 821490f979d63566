/**
 * Counts what the webgpu backend really does: GPU dispatches (dispatchWorkgroups), CPU→GPU uploads
 * (a tensor whose values are still on the CPU, copied through a mapped buffer), GPU buffer
 * creations, compute passes and queue submits — in total, by TF.js kernel and by phase of the
 * step. Kernel calls that dispatch nothing (Reshape, Identity, a same-dtype Cast) are counted apart.
 *
 * It wraps the backend's own methods (tfjs-backend-webgpu 4.22: recordAndSubmit, uploadToGPU,
 * submitQueue, endComputePassEncoder, and its buffer manager's device.createBuffer) and the
 * registered webgpu kernels' kernelFunc. Meant for bench/step `--count` and for tests that hold a
 * fused kernel to its dispatch count; it adds a little CPU work per call, nothing on the GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { customDispatchListeners } from './kernels/webgpu-adam.js';

/** What one kernel (or phase) caused. */
export interface OpCounts {
  /** Engine kernel calls (dispatching or not). */
  calls: number;
  /** Real GPU dispatches. */
  dispatches: number;
  /** CPU→GPU uploads of tensor data (not counting the per-dispatch uniform writes). */
  uploads: number;
  uploadBytes: number;
}

export type Phase = 'forward' | 'backward' | 'optimizer' | 'other';

export interface DispatchCounts {
  dispatches: number;
  kernelCalls: number;
  uploads: number;
  uploadBytes: number;
  bufferCreations: number;
  passes: number;
  submits: number;
  /** By TF.js kernel name (the innermost registered kernel running when it happened). */
  byOp: Record<string, OpCounts>;
  /** forward: under a gradient tape or plain; backward: inside tf's backprop; optimizer: inside `phase('optimizer', …)`. */
  byPhase: Record<Phase, OpCounts>;
}

interface WebGpuBackendLike {
  recordAndSubmit(...args: unknown[]): unknown;
  uploadToGPU(dataId: object): void;
  submitQueue(): void;
  endComputePassEncoder(): void;
  computePassEncoder: unknown;
  tensorMap: { get(dataId: object): { values: ArrayLike<number> | null; resource: unknown; dtype: string; shape: number[] } | undefined };
  bufferManager: { device: { createBuffer(d: unknown): unknown } };
}

interface EngineStateLike {
  state: { scopeStack: Array<{ name: string }> };
}

const empty = (): OpCounts => ({ calls: 0, dispatches: 0, uploads: 0, uploadBytes: 0 });

/** Installs once per backend instance; start()/stop() bracket what is counted. */
export class DispatchCounter {
  private counting = false;
  private counts: DispatchCounts = DispatchCounter.zero();
  private readonly kernelStack: string[] = [];
  private explicitPhase: Phase | null = null;

  private static zero(): DispatchCounts {
    return {
      dispatches: 0,
      kernelCalls: 0,
      uploads: 0,
      uploadBytes: 0,
      bufferCreations: 0,
      passes: 0,
      submits: 0,
      byOp: {},
      byPhase: { forward: empty(), backward: empty(), optimizer: empty(), other: empty() },
    };
  }

  /** @internal use installDispatchCounter() */
  constructor(backend: WebGpuBackendLike) {
    const b = backend;
    const origRecord = b.recordAndSubmit.bind(b);
    b.recordAndSubmit = (...args: unknown[]) => {
      if (this.counting) this.bump((c) => c.dispatches++, () => this.counts.dispatches++);
      return origRecord(...args);
    };
    const origUpload = b.uploadToGPU.bind(b);
    b.uploadToGPU = (dataId: object) => {
      if (this.counting) {
        const d = b.tensorMap.get(dataId);
        if (d !== undefined && d.resource == null && d.values != null) {
          const bytes = 4 * d.shape.reduce((a, x) => a * x, 1);
          this.bump(
            (c) => {
              c.uploads++;
              c.uploadBytes += bytes;
            },
            () => {
              this.counts.uploads++;
              this.counts.uploadBytes += bytes;
            },
          );
        }
      }
      origUpload(dataId);
    };
    const origSubmit = b.submitQueue.bind(b);
    b.submitQueue = () => {
      if (this.counting) this.counts.submits++;
      origSubmit();
    };
    const origEnd = b.endComputePassEncoder.bind(b);
    b.endComputePassEncoder = () => {
      if (this.counting && b.computePassEncoder != null) this.counts.passes++;
      origEnd();
    };
    const device = b.bufferManager.device;
    b.bufferManager.device = {
      createBuffer: (d: unknown) => {
        if (this.counting) this.counts.bufferCreations++;
        return device.createBuffer(d);
      },
    };
    // Our own WGSL kernels dispatch without recordAndSubmit: they report here.
    customDispatchListeners.add((kernel) => {
      if (!this.counting) return;
      this.kernelStack.push(kernel);
      this.bump((c) => {
        c.calls++;
        c.dispatches++;
      }, () => {
        this.counts.kernelCalls++;
        this.counts.dispatches++;
      });
      this.kernelStack.pop();
    });
    this.wrapKernels();
  }

  /** Wraps every registered webgpu kernel (again after new ones are registered: idempotent per config). */
  wrapKernels(): void {
    for (const config of tf.getKernelsForBackend('webgpu')) {
      const c = config as tf.KernelConfig & { [WRAPPED]?: true };
      if (c[WRAPPED]) continue;
      const orig = c.kernelFunc;
      const name = c.kernelName;
      c.kernelFunc = ((args: Parameters<tf.KernelFunc>[0]) => {
        if (!this.counting) return orig(args);
        this.kernelStack.push(name);
        this.bump((k) => k.calls++, () => this.counts.kernelCalls++);
        try {
          return orig(args);
        } finally {
          this.kernelStack.pop();
        }
      }) as tf.KernelFunc;
      Object.defineProperty(c, WRAPPED, { value: true });
    }
  }

  /** Runs `f` with its work counted under `phase` (e.g. the optimiser's update). */
  phase<T>(phase: Phase, f: () => T): T {
    const prev = this.explicitPhase;
    this.explicitPhase = phase;
    try {
      return f();
    } finally {
      this.explicitPhase = prev;
    }
  }

  start(): void {
    this.counts = DispatchCounter.zero();
    this.counting = true;
  }

  stop(): DispatchCounts {
    this.counting = false;
    return this.counts;
  }

  private currentPhase(): Phase {
    if (this.explicitPhase !== null) return this.explicitPhase;
    const stack = (tf.engine() as unknown as EngineStateLike).state.scopeStack;
    return stack.some((s) => s.name === 'backward') ? 'backward' : 'forward';
  }

  private bump(perOp: (c: OpCounts) => void, total: () => void): void {
    total();
    const op = this.kernelStack[this.kernelStack.length - 1] ?? '(outside a kernel)';
    const entry = (this.counts.byOp[op] ??= empty());
    perOp(entry);
    perOp(this.counts.byPhase[this.currentPhase()]);
  }
}

const WRAPPED = Symbol.for('gan-atelier.dispatch-count');
const INSTALLED = Symbol.for('gan-atelier.dispatch-counter');

/** The counter on the current webgpu backend (installed on first call). Throws on another backend. */
export function installDispatchCounter(): DispatchCounter {
  if (tf.getBackend() !== 'webgpu') throw new Error(`dispatch counts need the webgpu backend, not ${tf.getBackend()}`);
  const backend = tf.backend() as unknown as WebGpuBackendLike & { [INSTALLED]?: DispatchCounter };
  const existing = backend[INSTALLED];
  if (existing !== undefined) {
    existing.wrapKernels();
    return existing;
  }
  const counter = new DispatchCounter(backend);
  Object.defineProperty(backend, INSTALLED, { value: counter });
  return counter;
}

/** The `n` ops with the most dispatches, for a compact report. */
export function topOps(counts: DispatchCounts, n = 20): Array<{ op: string } & OpCounts> {
  return Object.entries(counts.byOp)
    .map(([op, c]) => ({ op, ...c }))
    .sort((a, b) => b.dispatches - a.dispatches || b.uploads - a.uploads || b.calls - a.calls)
    .slice(0, n);
}
