import * as tf from '@tensorflow/tfjs';
import { prepareWasmThreads, wasmThreadsInUse } from '../core/backend/wasm-threads.js';
import { selectBackend } from '../core/backend/select.js';
const n = Number(process.argv[2] ?? 2);
await prepareWasmThreads(n);
const c = await selectBackend({ prefer: 'wasm' });
console.log(c.tried, await wasmThreadsInUse());
const a = tf.randomNormal([8, 64, 64, 64]); const w = tf.randomNormal([3, 3, 64, 64]);
let t0 = performance.now();
for (let i = 0; i < 5; i++) { const y = tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'); await y.data(); y.dispose(); }
console.log('5 convs ms', performance.now() - t0);
const y = tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'); const s = await y.sum().data(); console.log('sum', s[0]);
const b = tf.backend() as any;
console.log('PThread' in b.wasm, b.wasm.PThread ? [b.wasm.PThread.unusedWorkers.length, b.wasm.PThread.runningWorkers.length] : null, Object.keys(b.wasm).filter(k=>/thread/i.test(k)).slice(0,20));
console.log('direct get', b.wasm._get_threads_count(), 'cores fn', typeof b.wasm._emscripten_num_logical_cores);
b.wasm.tfjs.initWithThreadsCount(2); console.log('after init 2', b.wasm._get_threads_count());
