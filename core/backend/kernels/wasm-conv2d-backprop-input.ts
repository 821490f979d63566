/**
 * A faster `Conv2DBackpropInput` for the wasm backend, for stride 1 (every conv in core/nets):
 * the input gradient of a stride-1 conv is itself a stride-1 conv (XNNPACK) of dy with the filter
 * flipped spatially and its in/out channels swapped:
 *
 *   dx[n, p, q, ci] = Σ_{a,b,co} dy[n, p + top − a, q + left − b, co] · W[a, b, ci, co]
 *                   = Conv2D(dy, W', pad [k−1−top, k−1−bottom]),  W'[a, b, co, ci] = W[k−1−a, k−1−b, ci, co]
 *
 * The stock kernel (a plain loop) stays in charge of strided convs.
 */
import * as tf from '@tensorflow/tfjs';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Backend = tf.KernelBackend;

function run(backend: Backend, name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`wasm kernel '${name}' is not registered`);
  return kernel.kernelFunc({ inputs, attrs, backend: backend as object }) as tf.TensorInfo;
}

/** Builds the kernel config; `stock` runs the cases this kernel does not take (strided). */
export function makeWasmConv2DBackpropInputConfig(stock: tf.KernelFunc | undefined): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const backend = args.backend as tf.KernelBackend;
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const { strides, pad, dimRoundingMode, inputShape } = attrs;
    const filterShape = filter.shape as [number, number, number, number]; // [kh, kw, Cin, Cout]
    const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const nhwc = attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
    if (info.strideHeight !== 1 || info.strideWidth !== 1 || !nhwc) {
      if (stock === undefined) throw new Error('wasm Conv2DBackpropInput: strided or NCHW case without a stock kernel');
      return stock(args) as tf.TensorInfo;
    }
    const { filterHeight: kh, filterWidth: kw } = info;
    const { top, bottom, left, right } = info.padInfo;
    const temps: tf.TensorInfo[] = [];
    const keep = (t: tf.TensorInfo): tf.TensorInfo => (temps.push(t), t);
    try {
      const flipped = keep(run(backend, 'Reverse', { x: filter }, { dims: [0, 1] }));
      const swapped = keep(run(backend, 'Transpose', { x: flipped }, { perm: [0, 1, 3, 2] })); // [kh, kw, Cout, Cin]
      return run(backend, 'Conv2D', { x: dy, filter: swapped }, {
        strides: [1, 1],
        pad: [[0, 0], [kh - 1 - top, kh - 1 - bottom], [kw - 1 - left, kw - 1 - right], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      }); // [N, H, W, Cin]
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc };
}
