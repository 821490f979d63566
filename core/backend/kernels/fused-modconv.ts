/**
 * The parts of G's modulated convolution (core/nets/layers.ts ModulatedConv) around the conv, as
 * single kernels on webgpu, where each op is a dispatch:
 *
 *   AtelierModulate(x, s)      x[n, h, w, c] · s[n, c]                    (styles on the input)
 *   AtelierSpatialDot(a, b)    Σ_{h,w} a[n, h, w, c] · b[n, h, w, c]        (its gradient for s; ModAct's for d)
 *   AtelierDemod(s, w)         d[n, o] = 1/√(Σ_i s[n, i]² · Σ_k w[k, i, o]² + ε)   (six ops before)
 *   AtelierDemodGradS / …W     Demod's gradient for s and for w
 *       ∂L/∂s[n, i] = −s[n, i] · Σ_o g[n, o]·d[n, o]³·Σ_k w[k, i, o]²
 *       ∂L/∂w[k, i, o] = −w[k, i, o] · Σ_n g[n, o]·d[n, o]³·s[n, i]²
 *
 * Modulate and SpatialDot have gradients made of each other, so they differentiate again.
 * Demod's gradient kernels do not: only G uses them, and G is never differentiated twice (R1 is
 * D's); their registered gradient says so instead of returning something wrong.
 * webgpu kernels and cpu ones (plain loops, for tests without a GPU).
 */
import * as tf from '@tensorflow/tfjs';
import { runPerOutput } from './webgpu-program.js';

export const MODULATE = 'AtelierModulate';
export const SPATIAL_DOT = 'AtelierSpatialDot';
export const DEMOD = 'AtelierDemod';
export const DEMOD_GRAD_S = 'AtelierDemodGradS';
export const DEMOD_GRAD_W = 'AtelierDemodGradW';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** x [N, H, W, C] · s [N, C], broadcast over H and W; one kernel. */
export function modulate(x: tf.Tensor4D, s: tf.Tensor2D): tf.Tensor4D {
  return tf.engine().runKernel(MODULATE, { x, s }) as tf.Tensor4D;
}

/** Σ over H and W of a·b, [N, H, W, C] → [N, C]; one kernel. */
export function spatialDot(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor2D {
  return tf.engine().runKernel(SPATIAL_DOT, { a, b }) as tf.Tensor2D;
}

/** Demodulation coefficients [N, out] of styles s [N, in] and weight w [k, k, in, out]; one kernel. */
export function demod(s: tf.Tensor2D, w: tf.Tensor4D, eps: number): tf.Tensor2D {
  return tf.engine().runKernel(DEMOD, { s, w }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------
// Gradients.

export const modConvGrads: tf.GradConfig[] = [
  {
    kernelName: MODULATE,
    inputsToSave: ['x', 's'],
    gradFunc: (dy, saved) => {
      const [x, s] = saved as [tf.Tensor4D, tf.Tensor2D];
      return { x: () => modulate(dy as tf.Tensor4D, s), s: () => spatialDot(dy as tf.Tensor4D, x) };
    },
  },
  {
    kernelName: SPATIAL_DOT,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor4D, tf.Tensor4D];
      return { a: () => modulate(b, dy as tf.Tensor2D), b: () => modulate(a, dy as tf.Tensor2D) };
    },
  },
  {
    kernelName: DEMOD,
    inputsToSave: ['s', 'w'],
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [s, w, d] = saved as [tf.Tensor2D, tf.Tensor4D, tf.Tensor2D];
      const inputs = { g: dy as tf.Tensor2D, d, s, w };
      return {
        s: () => tf.engine().runKernel(DEMOD_GRAD_S, inputs) as tf.Tensor,
        w: () => tf.engine().runKernel(DEMOD_GRAD_W, inputs) as tf.Tensor,
      };
    },
  },
  ...[DEMOD_GRAD_S, DEMOD_GRAD_W].map(
    (kernelName): tf.GradConfig => ({
      kernelName,
      gradFunc: () => {
        throw new Error(`${kernelName}: no second-order gradient (demodulation is G's; only D is differentiated twice)`);
      },
    }),
  ),
];

// ---------------------------------------------------------------------------------------------
// webgpu kernels.

function dims4(t: tf.TensorInfo): [number, number, number, number] {
  return t.shape as [number, number, number, number];
}

function webgpuModulate(args: KernelArgs): tf.TensorInfo {
  const { x, s } = args.inputs as { x: tf.TensorInfo; s: tf.TensorInfo };
  const [, h, w, c] = dims4(x);
  return runPerOutput(args.backend, 'atelierModulate', { x, s }, x.shape, [
    ['i32', 'channels', c],
    ['i32', 'pixels', h * w],
  ], 'let ch = index % uniforms.channels; let img = index / (uniforms.channels * uniforms.pixels); setOutputAtIndex(index, x[index] * s[img * uniforms.channels + ch]);');
}

function webgpuSpatialDot(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const [n, h, w, c] = dims4(a);
  // Thread (n, c) walks the pixels; neighbouring threads read neighbouring channels.
  return runPerOutput(args.backend, 'atelierSpatialDot', { a, b }, [n, c], [
    ['i32', 'channels', c],
    ['i32', 'pixels', h * w],
  ], `let ch = index % uniforms.channels;
        let base = (index / uniforms.channels) * uniforms.pixels * uniforms.channels + ch;
        var acc = 0.0;
        for (var p = 0; p < uniforms.pixels; p = p + 1) {
          let k = base + p * uniforms.channels;
          acc = acc + a[k] * b[k];
        }
        setOutputAtIndex(index, acc);`);
}

/** WGSL: q = Σ_k w[k, i, o]² (uniforms taps, cin, cout; i and o in scope). */
const WSQ = `var q = 0.0;
          for (var t = 0; t < uniforms.taps; t = t + 1) {
            let wv = w[(t * uniforms.cin + i) * uniforms.cout + o];
            q = q + wv * wv;
          }`;

function demodUniforms(s: tf.TensorInfo, w: tf.TensorInfo): Array<['i32', string, number]> {
  const [kh, kw, cin, cout] = dims4(w);
  return [
    ['i32', 'batch', s.shape[0] as number],
    ['i32', 'taps', kh * kw],
    ['i32', 'cin', cin],
    ['i32', 'cout', cout],
  ];
}

function webgpuDemod(args: KernelArgs): tf.TensorInfo {
  const { s, w } = args.inputs as { s: tf.TensorInfo; w: tf.TensorInfo };
  const { eps } = args.attrs as unknown as { eps: number };
  return runPerOutput(args.backend, 'atelierDemod', { s, w }, [s.shape[0] as number, dims4(w)[3]], [...demodUniforms(s, w), ['f32', 'eps', eps]], `let o = index % uniforms.cout;
        let n = index / uniforms.cout;
        var acc = 0.0;
        for (var i = 0; i < uniforms.cin; i = i + 1) {
          ${WSQ}
          let si = s[n * uniforms.cin + i];
          acc = acc + si * si * q;
        }
        setOutputAtIndex(index, inverseSqrt(acc + uniforms.eps));`);
}

function webgpuDemodGradS(args: KernelArgs): tf.TensorInfo {
  const { g, d, s, w } = args.inputs as Record<string, tf.TensorInfo>;
  return runPerOutput(args.backend, 'atelierDemodGradS', { g, d, s, w } as Record<string, tf.TensorInfo>, (s as tf.TensorInfo).shape, demodUniforms(s as tf.TensorInfo, w as tf.TensorInfo), `let i = index % uniforms.cin;
        let n = index / uniforms.cin;
        var acc = 0.0;
        for (var o = 0; o < uniforms.cout; o = o + 1) {
          ${WSQ}
          let dd = d[n * uniforms.cout + o];
          acc = acc + g[n * uniforms.cout + o] * dd * dd * dd * q;
        }
        setOutputAtIndex(index, -s[index] * acc);`);
}

function webgpuDemodGradW(args: KernelArgs): tf.TensorInfo {
  const { g, d, s, w } = args.inputs as Record<string, tf.TensorInfo>;
  return runPerOutput(args.backend, 'atelierDemodGradW', { g, d, s, w } as Record<string, tf.TensorInfo>, (w as tf.TensorInfo).shape, demodUniforms(s as tf.TensorInfo, w as tf.TensorInfo), `let o = index % uniforms.cout;
        let i = (index / uniforms.cout) % uniforms.cin;
        var acc = 0.0;
        for (var n = 0; n < uniforms.batch; n = n + 1) {
          let dd = d[n * uniforms.cout + o];
          let si = s[n * uniforms.cin + i];
          acc = acc + g[n * uniforms.cout + o] * dd * dd * dd * si * si;
        }
        setOutputAtIndex(index, -w[index] * acc);`);
}

// ---------------------------------------------------------------------------------------------
// cpu kernels.

interface CpuBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function read(args: KernelArgs, ...names: string[]): { b: CpuBackendLike; v: Array<ArrayLike<number>>; t: tf.TensorInfo[] } {
  const b = args.backend as unknown as CpuBackendLike;
  const t = names.map((n) => (args.inputs as Record<string, tf.TensorInfo>)[n] as tf.TensorInfo);
  return { b, v: t.map((x) => b.readSync(x.dataId)), t };
}

const at = (a: ArrayLike<number>, i: number): number => a[i] as number;

function cpuModulate(args: KernelArgs): tf.TensorInfo {
  const { b, v, t } = read(args, 'x', 's');
  const [xv, sv] = v as [ArrayLike<number>, ArrayLike<number>];
  const [, h, w, c] = dims4(t[0] as tf.TensorInfo);
  const out = new Float32Array(xv.length);
  for (let i = 0; i < out.length; i++) out[i] = at(xv, i) * at(sv, Math.floor(i / (c * h * w)) * c + (i % c));
  return b.makeTensorInfo((t[0] as tf.TensorInfo).shape, 'float32', out);
}

function cpuSpatialDot(args: KernelArgs): tf.TensorInfo {
  const { b, v, t } = read(args, 'a', 'b');
  const [av, bv] = v as [ArrayLike<number>, ArrayLike<number>];
  const [n, h, w, c] = dims4(t[0] as tf.TensorInfo);
  const out = new Float32Array(n * c);
  for (let i = 0; i < av.length; i++) {
    const k = Math.floor(i / (c * h * w)) * c + (i % c);
    out[k] = (out[k] as number) + at(av, i) * at(bv, i);
  }
  return b.makeTensorInfo([n, c], 'float32', out);
}

/** Σ_k w[k, i, o]² for every (i, o). */
function wsq(wv: ArrayLike<number>, taps: number, cin: number, cout: number): Float64Array {
  const q = new Float64Array(cin * cout);
  for (let k = 0; k < taps; k++) for (let j = 0; j < cin * cout; j++) q[j] = (q[j] as number) + at(wv, k * cin * cout + j) ** 2;
  return q;
}

function cpuDemod(args: KernelArgs): tf.TensorInfo {
  const { b, v, t } = read(args, 's', 'w');
  const [sv, wv] = v as [ArrayLike<number>, ArrayLike<number>];
  const [kh, kw, cin, cout] = dims4(t[1] as tf.TensorInfo);
  const n = (t[0] as tf.TensorInfo).shape[0] as number;
  const q = wsq(wv, kh * kw, cin, cout);
  const { eps } = args.attrs as unknown as { eps: number };
  const out = new Float32Array(n * cout);
  for (let s = 0; s < n; s++) {
    for (let o = 0; o < cout; o++) {
      let acc = 0;
      for (let i = 0; i < cin; i++) acc += at(sv, s * cin + i) ** 2 * (q[i * cout + o] as number);
      out[s * cout + o] = 1 / Math.sqrt(acc + eps);
    }
  }
  return b.makeTensorInfo([n, cout], 'float32', out);
}

/** g·d³ for every (n, o), and the shapes. */
function demodGradParts(args: KernelArgs) {
  const { b, v, t } = read(args, 'g', 'd', 's', 'w');
  const [gv, dv, sv, wv] = v as [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];
  const [kh, kw, cin, cout] = dims4(t[3] as tf.TensorInfo);
  const n = (t[2] as tf.TensorInfo).shape[0] as number;
  const u = Float64Array.from({ length: n * cout }, (_, k) => at(gv, k) * at(dv, k) ** 3);
  return { b, sv, wv, u, n, taps: kh * kw, cin, cout, t };
}

function cpuDemodGradS(args: KernelArgs): tf.TensorInfo {
  const { b, sv, wv, u, n, taps, cin, cout } = demodGradParts(args);
  const q = wsq(wv, taps, cin, cout);
  const out = new Float32Array(n * cin);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < cin; i++) {
      let acc = 0;
      for (let o = 0; o < cout; o++) acc += (u[s * cout + o] as number) * (q[i * cout + o] as number);
      out[s * cin + i] = -at(sv, s * cin + i) * acc;
    }
  }
  return b.makeTensorInfo([n, cin], 'float32', out);
}

function cpuDemodGradW(args: KernelArgs): tf.TensorInfo {
  const { b, sv, wv, u, n, cin, cout, t } = demodGradParts(args);
  const out = new Float32Array(wv.length);
  for (let j = 0; j < out.length; j++) {
    const o = j % cout;
    const i = Math.floor(j / cout) % cin;
    let acc = 0;
    for (let s = 0; s < n; s++) acc += (u[s * cout + o] as number) * at(sv, s * cin + i) ** 2;
    out[j] = -at(wv, j) * acc;
  }
  return b.makeTensorInfo((t[3] as tf.TensorInfo).shape, 'float32', out);
}

export const modConvKernels: Record<'webgpu' | 'cpu', Array<[string, (args: KernelArgs) => tf.TensorInfo]>> = {
  webgpu: [
    [MODULATE, webgpuModulate],
    [SPATIAL_DOT, webgpuSpatialDot],
    [DEMOD, webgpuDemod],
    [DEMOD_GRAD_S, webgpuDemodGradS],
    [DEMOD_GRAD_W, webgpuDemodGradW],
  ],
  cpu: [
    [MODULATE, cpuModulate],
    [SPATIAL_DOT, cpuSpatialDot],
    [DEMOD, cpuDemod],
    [DEMOD_GRAD_S, cpuDemodGradS],
    [DEMOD_GRAD_W, cpuDemodGradW],
  ],
};
