/** The Float64 symmetric eigensolver and the matrix square root, against facts that hold exactly. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { covariance, matMul, sqrtPsd, symmetricEigen } from '../../../core/metrics/linalg.js';
import { Rng } from '../../../core/random/rng.js';

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = Rng.fromSeed(seed);
  const b = Float64Array.from({ length: n * n }, () => rng.nextFloat() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = b[i * n + j]! + b[j * n + i]!;
  return a;
}

test('eigenpairs satisfy A·v = λ·v with orthonormal v, ascending λ, and the trace is kept', () => {
  for (const n of [1, 2, 3, 17, 120]) {
    const a = randomSymmetric(n, n);
    const { values, vectors } = symmetricEigen(a, n, { vectors: true });
    const q = vectors!;
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i]!;
    assert.ok(Math.abs(values.reduce((s, v) => s + v, 0) - trace) < 1e-10 * n, `trace kept at n=${n}`);
    for (let k = 0; k < n; k++) {
      if (k > 0) assert.ok(values[k]! >= values[k - 1]!, 'ascending');
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j]! * q[k * n + j]!;
        assert.ok(Math.abs(av - values[k]! * q[k * n + i]!) < 1e-11 * n, `residual at n=${n}, k=${k}`);
      }
      for (let l = 0; l <= k; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[k * n + i]! * q[l * n + i]!;
        assert.ok(Math.abs(dot - (k === l ? 1 : 0)) < 1e-12 * n, `orthonormal at n=${n}`);
      }
    }
    // Values alone: the same numbers.
    assert.deepEqual(symmetricEigen(a, n).values, values);
  }
});

test('known spectra: a diagonal matrix, a rotated diagonal, a rank-deficient PSD matrix', () => {
  assert.deepEqual(Array.from(symmetricEigen(Float64Array.from([3, 0, 0, 0, -1, 0, 0, 0, 2]), 3).values), [-1, 2, 3]);
  // R·diag(1, 4)·Rᵀ for a 30° rotation.
  const c = Math.cos(Math.PI / 6);
  const s = Math.sin(Math.PI / 6);
  const m = Float64Array.from([c * c * 1 + s * s * 4, c * s * (1 - 4), c * s * (1 - 4), s * s * 1 + c * c * 4]);
  const ev = symmetricEigen(m, 2).values;
  assert.ok(Math.abs(ev[0]! - 1) < 1e-14 && Math.abs(ev[1]! - 4) < 1e-14);
  // v·vᵀ has eigenvalues 0, 0, ‖v‖².
  const v = [1, 2, 2];
  const outer = Float64Array.from({ length: 9 }, (_, i) => v[Math.floor(i / 3)]! * v[i % 3]!);
  const ov = symmetricEigen(outer, 3).values;
  assert.ok(Math.abs(ov[0]!) < 1e-14 && Math.abs(ov[1]!) < 1e-14 && Math.abs(ov[2]! - 9) < 1e-13);
});

test('sqrtPsd(A)² = A for a covariance matrix, including a singular one', () => {
  const rng = Rng.fromSeed(3);
  for (const [count, dim] of [
    [50, 12],
    [6, 12], // fewer samples than dimensions: singular
  ] as const) {
    const data = Float64Array.from({ length: count * dim }, () => rng.nextFloat());
    const cov = covariance({ data, count, dim });
    const root = sqrtPsd(cov, dim);
    const back = matMul(root, root, dim);
    for (let i = 0; i < dim * dim; i++) assert.ok(Math.abs(back[i]! - cov[i]!) < 1e-12, `entry ${i}: ${back[i]} vs ${cov[i]}`);
  }
});
