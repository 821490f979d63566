/**
 * ADA's colour transforms as one 4×4 homogeneous matrix per image (StyleGAN2-ADA's convention:
 * C · [r, g, b, 1]ᵀ), composed in plain JS and applied once: brightness, contrast, luma flip, hue
 * rotation about the luma axis, saturation. Images are in [−1, 1], so contrast scales about mid-grey.
 */
import * as tf from '@tensorflow/tfjs';

/** A 4×4 matrix, row-major. */
export type Mat4 = Float64Array;

export function identity4(): Mat4 {
  const m = new Float64Array(16);
  m[0] = m[5] = m[10] = m[15] = 1;
  return m;
}

/** a · b */
export function mul4(a: Mat4, b: Mat4): Mat4 {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k]! * b[k * 4 + c]!;
      out[r * 4 + c] = s;
    }
  }
  return out;
}

export function translate3d(tx: number, ty: number, tz: number): Mat4 {
  return Float64Array.from([1, 0, 0, tx, 0, 1, 0, ty, 0, 0, 1, tz, 0, 0, 0, 1]);
}

export function scale3d(sx: number, sy: number, sz: number): Mat4 {
  return Float64Array.from([sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, sz, 0, 0, 0, 0, 1]);
}

/** The luma axis (1, 1, 1)/√3, homogeneous. */
const LUMA = [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3), 0];

/** v·vᵀ for the luma axis. */
function lumaOuter(): Mat4 {
  const m = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) m[r * 4 + c] = LUMA[r]! * LUMA[c]!;
  return m;
}

/** Householder reflection through the plane orthogonal to the luma axis when `flip` is 1: I − 2·v·vᵀ·flip. */
export function lumaFlip(flip: number): Mat4 {
  const vv = lumaOuter();
  const m = identity4();
  for (let i = 0; i < 16; i++) m[i] = m[i]! - 2 * vv[i]! * flip;
  return m;
}

/** Rotation by θ about the luma axis (Rodrigues), which leaves greys grey. */
export function hueRotation(theta: number): Mat4 {
  const [vx, vy, vz] = LUMA as [number, number, number, number];
  const s = Math.sin(theta);
  const c = Math.cos(theta);
  const cc = 1 - c;
  return Float64Array.from([
    vx * vx * cc + c, vx * vy * cc - vz * s, vx * vz * cc + vy * s, 0,
    vy * vx * cc + vz * s, vy * vy * cc + c, vy * vz * cc - vx * s, 0,
    vz * vx * cc - vy * s, vz * vy * cc + vx * s, vz * vz * cc + c, 0,
    0, 0, 0, 1,
  ]);
}

/** Saturation: the component along the luma axis kept, the rest scaled by s. */
export function saturation(s: number): Mat4 {
  const vv = lumaOuter();
  const id = identity4();
  const m = new Float64Array(16);
  for (let i = 0; i < 16; i++) m[i] = vv[i]! + (id[i]! - vv[i]!) * s;
  return m;
}

export function isIdentity4(m: Mat4): boolean {
  const id = identity4();
  return id.every((v, i) => Math.abs(m[i]! - v) < 1e-12);
}

/**
 * Applies one colour matrix per image. images [N, H, W, C] with C = 3 (the 3×4 part) or C = 1
 * (the rows averaged, as StyleGAN2-ADA does for grayscale).
 */
export function applyColour(images: tf.Tensor4D, mats: readonly Mat4[]): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  if (mats.length !== n) throw new Error(`applyColour: ${mats.length} matrices for ${n} images`);
  if (c === 3) {
    // y = x · Mᵀ + b, per image: Mᵀ [N, 3, 3] and b [N, 1, 3] laid out in JS.
    const mt = new Float32Array(n * 9);
    const b = new Float32Array(n * 3);
    mats.forEach((m, i) => {
      for (let r = 0; r < 3; r++) {
        for (let k = 0; k < 3; k++) mt[i * 9 + k * 3 + r] = m[r * 4 + k]!;
        b[i * 3 + r] = m[r * 4 + 3]!;
      }
    });
    const y = tf.matMul(images.reshape([n, h * w, 3]), tf.tensor3d(mt, [n, 3, 3])).add(tf.tensor3d(b, [n, 1, 3])); // [N, HW, 3]
    return y.reshape([n, h, w, 3]);
  }
  if (c === 1) {
    const gain = new Float32Array(n);
    const bias = new Float32Array(n);
    mats.forEach((m, i) => {
      for (let r = 0; r < 3; r++) {
        gain[i] = gain[i]! + (m[r * 4]! + m[r * 4 + 1]! + m[r * 4 + 2]!) / 3;
        bias[i] = bias[i]! + m[r * 4 + 3]! / 3;
      }
    });
    return images.mul(tf.tensor4d(gain, [n, 1, 1, 1])).add(tf.tensor4d(bias, [n, 1, 1, 1]));
  }
  throw new Error(`applyColour: images must have 3 (RGB) or 1 (grayscale) channels, not ${c}`);
}
