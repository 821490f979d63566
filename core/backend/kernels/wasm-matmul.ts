/**
 * `BatchMatMul` for the wasm backend with transposed operands transposed first. TF.js 4.22's wasm
 * kernel hands only untransposed products to XNNPACK; with transposeA or transposeB it runs a
 * single-threaded loop, 4–13× slower: [8, 512]ᵀ·[8, 512] took 3.3 ms where Transpose + the plain
 * product take 0.23 ms. Every dense layer's weight gradient (xᵀ·dy) and input gradient (dy·Wᵀ) is
 * such a product: ~90 ms of a 64² training step (mapping network, style affines, D's head).
 *
 *   aᵀ·b = Transpose(a)·b      a·bᵀ = (b·aᵀ)ᵀ when a has fewer rows, else a·Transpose(b)
 *   aᵀ·bᵀ = (b·a)ᵀ
 *
 * Products of rank > 2 go to the stock kernel, as do untransposed ones.
 */
import type * as tf from '@tensorflow/tfjs';
import { runWasmKernel, type WasmBackend } from './wasm-backend.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** tᵀ: [rows, cols] → [cols, rows]. */
function transposed(backend: object, t: tf.TensorInfo): tf.TensorInfo {
  return runWasmKernel(backend, 'Transpose', { x: t }, { perm: [1, 0] });
}

/** Builds the kernel config; `stock` runs the products this one does not rewrite. */
export function makeWasmBatchMatMulConfig(stock: tf.KernelFunc): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    const plain = (!transposeA && !transposeB) || a.shape.length !== 2 || b.shape.length !== 2;
    if (plain || a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args) as tf.TensorInfo;
    const backend = args.backend as object;
    const temps: tf.TensorInfo[] = [];
    const keep = (t: tf.TensorInfo): tf.TensorInfo => (temps.push(t), t);
    const product = (x: tf.TensorInfo, y: tf.TensorInfo): tf.TensorInfo => stock({ inputs: { a: x, b: y }, attrs: { transposeA: false, transposeB: false }, backend } as unknown as KernelArgs) as tf.TensorInfo;
    try {
      if (transposeA && transposeB) return transposed(backend, keep(product(b, a))); // aᵀbᵀ = (ba)ᵀ
      if (transposeA) return product(keep(transposed(backend, a)), b);
      // a·bᵀ: XNNPACK packs its second operand on every call (b is new each call, a gradient or a
      // transposed copy), so the smaller one goes second: (b·aᵀ)ᵀ when a has fewer rows than b.
      const [m] = a.shape as [number, number];
      const [n] = b.shape as [number, number];
      if (m < n) return transposed(backend, keep(product(b, keep(transposed(backend, a)))));
      return product(a, keep(transposed(backend, b)));
    } finally {
      for (const t of temps) (backend as WasmBackend).disposeData(t.dataId);
    }
  };
  return { kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc };
}
