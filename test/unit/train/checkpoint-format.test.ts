/**
 * Checkpoint tensors: encode → decode is bit-exact (NaN payloads, −0, infinities, subnormals,
 * any alignment of the Buffer), and every way a file can be wrong gives an error naming it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTensors, CheckpointFormatError, decodeTensors, encodeTensors, type NamedArray } from '../../../core/nets/checkpoint-format.js';
import { Rng } from '../../../core/random/rng.js';

function randomArray(n: number, rng: Rng): Float32Array {
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = rng.nextU32(); // every bit pattern, NaNs with payloads included
  return new Float32Array(bits.buffer);
}

const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

function sample(): NamedArray[] {
  const rng = Rng.fromSeed(3);
  const special = new Float32Array([0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3.4028234e38, 1.17549435e-38]);
  return [
    { name: 'G.mapping.fc0.weight', shape: [32, 32], data: randomArray(32 * 32, rng) },
    { name: 'G.synthesis.b4.const', shape: [4, 4, 16], data: randomArray(256, rng) },
    { name: 'D.b4.out.bias', shape: [1], data: new Float32Array([0.25]) },
    { name: 'G.synthesis.b4.conv1.noise_strength', shape: [], data: new Float32Array([-0]) },
    { name: 'optD/v/D.x', shape: [9], data: special },
    { name: 'é-unicode name', shape: [0, 3], data: new Float32Array(0) },
  ];
}

describe('checkpoint format', () => {
  it('round-trips bit-exactly, whatever the Buffer alignment', () => {
    const entries = sample();
    const buf = encodeTensors(entries);
    for (const shift of [0, 1, 2, 3]) {
      // A Buffer at an odd offset, as SQLite may hand one back.
      const host = Buffer.alloc(buf.length + shift);
      buf.copy(host, shift);
      const decoded = decodeTensors(host.subarray(shift));
      assert.deepEqual([...decoded.keys()], entries.map((e) => e.name));
      for (const e of entries) {
        const got = decoded.get(e.name)!;
        assert.deepEqual(got.shape, e.shape);
        assert.deepEqual(bitsOf(got.data), bitsOf(e.data), `${e.name} at shift ${shift}`);
      }
    }
    assert.deepEqual(encodeTensors([...decodeTensors(buf).values()]), buf, 're-encoding gives the same bytes');
  });

  it('refuses files that are not checkpoints, truncated or damaged, naming the file', () => {
    const buf = encodeTensors(sample());
    const what = 'the checkpoint of run 3';
    assert.throws(() => decodeTensors(Buffer.from('PK\x03\x04 a zip'), what), (e: Error) => e instanceof CheckpointFormatError && /run 3 is not a GAN Atelier weights file/.test(e.message));
    assert.throws(() => decodeTensors(buf.subarray(0, buf.length - 4), what), /run 3 is truncated/);
    assert.throws(() => decodeTensors(buf.subarray(0, 20), what), /truncated/);
    assert.throws(() => decodeTensors(Buffer.concat([buf, Buffer.alloc(4)]), what), /damaged: \d+ bytes where its header says/);
    const future = Buffer.from(buf);
    future.writeUInt32LE(99, 8);
    assert.throws(() => decodeTensors(future, what), /weights format 99; this version of the studio reads format 1/);
    const garbled = Buffer.from(buf);
    garbled.write('}}}}', 16, 'latin1');
    assert.throws(() => decodeTensors(garbled, what), /header is not readable/);
    assert.throws(() => encodeTensors([{ name: 'a', shape: [2], data: new Float32Array(3) }]), /shape \[2\] but 3 values/);
    assert.throws(() => encodeTensors([{ name: 'a', shape: [1], data: new Float32Array(1) }, { name: 'a', shape: [1], data: new Float32Array(1) }]), /appears twice/);
  });

  it('checks names and shapes against what the networks expect', () => {
    const decoded = decodeTensors(encodeTensors(sample()));
    const expected = sample().map((e) => ({ name: e.name, shape: e.shape }));
    checkTensors(decoded, expected, 'ckpt'); // matches: no throw
    assert.throws(() => checkTensors(decoded, [...expected, { name: 'G.extra', shape: [1] }], 'ckpt'), /ckpt does not match these networks \(missing G\.extra\)/);
    const reshaped = expected.map((e) => (e.name === 'G.synthesis.b4.const' ? { ...e, shape: [4, 4, 32] } : e));
    assert.throws(() => checkTensors(decoded, reshaped, 'ckpt'), /wrong shape: G\.synthesis\.b4\.const is \[4, 4, 16\], expected \[4, 4, 32\]/);
    assert.throws(() => checkTensors(decoded, expected.slice(1), 'ckpt'), /not expected: G\.mapping\.fc0\.weight/);
    checkTensors(decoded, expected.slice(1), 'ckpt', 'ignore'); // transfer takes what it needs
  });
});
