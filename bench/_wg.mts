import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../core/backend/select.js';
const c = await selectBackend({ prefer: 'webgpu' });
console.log(c.tried, tf.getBackend());
const b = tf.backend() as any;
console.log(Object.getOwnPropertyNames(Object.getPrototypeOf(b)).join(' '));
process.exit(0);
