/**
 * `Conv2DBackpropFilter` as a forward Conv2D, for the cpu backend, whose own is ~40× slower than its
 * forward conv. (The wasm backend has its own, wasm-conv2d-backprop-filter.ts: XNNPACK ran this
 * swapped conv 2–5× slower than the forward conv.)
 *
 * Computed as one forward Conv2D (XNNPACK) with the roles swapped: input channels become the
 * batch, the batch becomes the channels, dy becomes the filter and the stride becomes a dilation:
 *
 *   dW[a, b, ci, co] = Σ_{n,i,j} xpad[n, i·s + a, j·s + b, ci] · dy[n, i, j, co]
 *                    = transpose(Conv2D(transpose(xpad, [3,1,2,0]),      // [Cin, Hp, Wp, N]
 *                                       transpose(dy, [1,2,0,3]),        // [Ho, Wo, N, Cout]
 *                                       stride 1, dilation s), [1,2,0,3])
 *
 * x is padded exactly as the forward pass padded it (passed to Conv2D as explicit padding, so no
 * padded copy is made); rows past the last one the forward conv read are cut off by a slice.
 */
import * as tf from '@tensorflow/tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Backend = tf.KernelBackend;

/** Runs another kernel of the same backend on TensorInfos (no tape, no engine bookkeeping). */
function run(backendName: string, backend: Backend, name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
  const kernel = tf.getKernel(name, backendName);
  if (kernel === undefined) throw new Error(`${backendName} kernel '${name}' is not registered`);
  return kernel.kernelFunc({ inputs, attrs, backend: backend as object }) as tf.TensorInfo;
}

function conv2DBackpropFilter(backendName: string, args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as tf.KernelBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const { strides, pad, dimRoundingMode, filterShape } = attrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${backendName} Conv2DBackpropFilter supports only NHWC, got ${attrs.dataFormat}`);
  }
  const xShape = x.shape as [number, number, number, number]; // [N, H, W, Cin]
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: ho, outWidth: wo } = info;
  const [, h, w, cin] = xShape;
  const cout = info.outChannels;
  // Rows/columns the forward conv actually read: (out - 1)·stride + k, starting at -top / -left.
  const { top, left } = info.padInfo;
  const bottom = Math.max(0, (ho - 1) * sh + kh - h - top);
  const right = Math.max(0, (wo - 1) * sw + kw - w - left);

  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => (temps.push(t), t);
  try {
    const xT = keep(run(backendName, backend, 'Transpose', { x }, { perm: [3, 1, 2, 0] })); // [Cin, H, W, N]
    const dyT = keep(run(backendName, backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] })); // [Ho, Wo, N, Cout]
    const conv = keep(
      run(backendName, backend, 'Conv2D', { x: xT, filter: dyT }, {
        strides: [1, 1],
        pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [sh, sw],
      }),
    ); // [Cin, ≥kh, ≥kw, Cout]
    let dwT = conv;
    if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
      dwT = keep(run(backendName, backend, 'Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [cin, kh, kw, cout] }));
    }
    return run(backendName, backend, 'Transpose', { x: dwT }, { perm: [1, 2, 0, 3] }); // [kh, kw, Cin, Cout]
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** The kernel for `backendName` ('wasm' or 'cpu'), built on that backend's own Conv2D. */
export function makeConv2DBackpropFilterConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ((args: KernelArgs) => conv2DBackpropFilter(backendName, args)) as tf.KernelFunc,
  };
}
