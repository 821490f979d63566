/**
 * WebAssembly SIMD kernels for the hot loops of an import, where plain JavaScript tops out:
 *
 * - `vrow`: one output row of `resample`'s vertical pass — most of the arithmetic of scaling a
 *   small image up (256 × 256 × 3 outputs of four taps each per 64² source). It does exactly the
 *   operations of the JavaScript loop: each float32 sample widened to float64, times a float32
 *   weight widened to float64, summed tap by tap in the same order (WebAssembly never fuses a
 *   multiply and an add), rounded half to even and clamped to 0…255 as a Uint8ClampedArray store
 *   does. Two samples per instruction; the same bytes.
 * - `hrow3`: one row of the horizontal pass for RGB, the same way (float64 sums, rounded to
 *   float32 on store as a Float32Array does).
 * - `halve3`, `halve1`: 2 × 2 box halving of RGB or gray bytes, 16 bytes per instruction.
 * - `paeth`: the PNG Paeth filter over whole rows, 16 bytes per instruction.
 * The integer kernels give the same bytes as their scalar definitions by construction; all of
 * them were checked against the JavaScript they replace on random and real images.
 *
 * The module is assembled here from its opcodes (a couple of kilobytes; no build step, no binary
 * to ship). Where WebAssembly SIMD is missing `simd()` returns null and callers keep to
 * JavaScript. Each thread has its own instance and memory; every call is synchronous, so one
 * scratch memory serves all of a thread's calls.
 */

export interface Simd {
  /**
   * The module's memory, grown to at least `bytes`. Views made before a call to `memory` may be
   * stale after it (growing replaces the ArrayBuffer); a caller lays out its own regions.
   */
  memory(bytes: number): ArrayBuffer;
  /**
   * out[x] = clamp8(roundHalfEven(Σ_{k<n} f32[t0 + k·rsBytes + 4x] · f64[w + 8k])) for x < count,
   * count a multiple of 8. Addresses in bytes.
   */
  vrow(t0: number, rsBytes: number, n: number, w: number, out: number, count: number): void;
  /**
   * One row of the horizontal pass for RGB: for x < dw, three float32 at tmp + 12x, each
   * Σ_{k<n} f32[src + 12·(s + k) + 4c] · f32[hw + 4k + x·htBytes] summed in float64 tap by tap
   * and rounded to float32 as a Float32Array store does; s = i32[hs + 4x], n = i32[hc + 4x].
   */
  hrow3(src: number, tmp: number, dw: number, hs: number, hc: number, hw: number, htBytes: number): void;
  /**
   * Halves a [h, w, ch] uint8 image by 2 × 2 averaging, (a + b + c + d + 2) >> 2, into [h/2, w/2, ch]
   * at `dst`: ch = 3 with w a multiple of 16, or ch = 1 with w a multiple of 16. Reads up to 3
   * bytes past the source.
   */
  halve3(src: number, dst: number, w: number, h: number): void;
  halve1(src: number, dst: number, w: number, h: number): void;
  /**
   * Paeth-filters rows [0, height) of `src` (stride bytes each; the row before the first is read
   * too, so it must be zeros) into `dst` at (stride + 1)·y + 1, for bytes [bpp, stride) of each
   * row. It works 16 bytes at a time and may write up to 15 bytes past a row's end (the next
   * row's first bytes, rewritten as that row is done; past the last row, 16 bytes of slack are
   * needed) and read up to 15 past it. The filter-type bytes and each row's first `bpp` bytes are
   * the caller's.
   */
  paeth(src: number, dst: number, stride: number, height: number, bpp: number): void;
}

// Opcodes (WebAssembly 2.0 core and its fixed-width SIMD).
const BLOCK = 0x02;
const LOOP = 0x03;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const VOID = 0x40;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_LOAD = 0x28;
const F32_LOAD = 0x2a;
const F64_LOAD = 0x2b;
const F32_STORE = 0x38;
const F64_ADD = 0xa0;
const F64_MUL = 0xa2;
const F32_DEMOTE_F64 = 0xb6;
const F64_PROMOTE_F32 = 0xbb;
const F64 = 0x7c;
const I32_CONST = 0x41;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_MUL = 0x6c;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
const I32 = 0x7f;
const V128 = 0x7b;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const V128_LOAD64_ZERO = 0x5d;
const V128_STORE64_LANE = 0x5b;
const I8X16_SHUFFLE = 0x0d;
const F64X2_SPLAT = 0x14;
const I16X8_SPLAT = 0x10;
const I16X8_LE_S = 0x33;
const V128_AND = 0x4e;
const V128_BITSELECT = 0x52;
const F32X4_DEMOTE_F64X2_ZERO = 0x5e;
const F64X2_PROMOTE_LOW_F32X4 = 0x5f;
const I8X16_NARROW_I16X8_U = 0x66;
const I8X16_SUB = 0x71;
const I16X8_EXTADD_PAIRWISE_I8X16_U = 0x7d;
const I16X8_ABS = 0x80;
const I16X8_NARROW_I32X4_S = 0x85;
const I16X8_EXTEND_LOW_I8X16_U = 0x89;
const I16X8_EXTEND_HIGH_I8X16_U = 0x8a;
const I16X8_SHR_U = 0x8d;
const I16X8_ADD = 0x8e;
const I16X8_SUB = 0x91;
const F64X2_NEAREST = 0x94;
const F64X2_ADD = 0xf0;
const F64X2_MUL = 0xf2;
const I32X4_TRUNC_SAT_F64X2_S_ZERO = 0xfc;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const immediates). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const vop = (op: number): number[] => [0xfd, ...leb(op)];
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const name = (s: string): number[] => [...leb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const get = (l: number): number[] => [LOCAL_GET, l];
const set = (l: number): number[] => [LOCAL_SET, l];
const tee = (l: number): number[] => [LOCAL_TEE, l];
const i32 = (v: number): number[] => [I32_CONST, ...sleb(v)];
/** a + b, each an expression. */
const plus = (a: number[], b: number[]): number[] => [...a, ...b, I32_ADD];
/** `while (!(exit)) { body }`: exit is an i32 expression. */
const whileNot = (exit: number[], body: number[]): number[] => [BLOCK, VOID, LOOP, VOID, ...exit, BR_IF, 1, ...body, BR, 0, END, END];

/** vrow(t0, rs, n, w, out, count): locals x, k, p, wp (i32); four accumulators and a weight (v128). */
function vrowCode(): number[] {
  const [T0, RS, N, WPTR, OUT, COUNT, X, K, P, WP] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const ACC = [10, 11, 12, 13];
  const W = 14;
  // Two float32 at p + off, widened to f64x2.
  const load2 = (off: number): number[] => [...get(P), ...vop(V128_LOAD64_ZERO), 2, ...leb(off), ...vop(F64X2_PROMOTE_LOW_F32X4)];
  const weight = [...get(WP), F64_LOAD, 3, 0, ...vop(F64X2_SPLAT), ...set(W)];
  // An accumulator rounded half to even, to i32 (saturating): 2 lanes.
  const rounded = (acc: number): number[] => [...get(acc), ...vop(F64X2_NEAREST), ...vop(I32X4_TRUNC_SAT_F64X2_S_ZERO)];
  const lowHalves = [...vop(I8X16_SHUFFLE), 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const body = [
    // p = t0 + 4x; acc_i = f32x2[p + 8i] · w_0
    ...plus(get(T0), [...get(X), ...i32(2), I32_SHL]), ...set(P),
    ...get(WPTR), ...set(WP),
    ...weight,
    ...ACC.flatMap((a, i) => [...load2(8 * i), ...get(W), ...vop(F64X2_MUL), ...set(a)]),
    // k = 1 … n − 1: acc_i += f32x2[p + k·rs + 8i] · w_k
    ...i32(1), ...set(K),
    ...whileNot([...get(K), ...get(N), I32_GE_U], [
      ...plus(get(P), get(RS)), ...set(P),
      ...plus(get(WP), i32(8)), ...set(WP),
      ...weight,
      ...ACC.flatMap((a, i) => [...get(a), ...load2(8 * i), ...get(W), ...vop(F64X2_MUL), ...vop(F64X2_ADD), ...set(a)]),
      ...plus(get(K), i32(1)), ...set(K),
    ]),
    // Eight results → 8 × i32 → 8 × i16 → 8 × u8 (each narrowing saturates: the clamp to 0…255).
    ...plus(get(OUT), get(X)),
    ...rounded(ACC[0]!), ...rounded(ACC[1]!), ...lowHalves,
    ...rounded(ACC[2]!), ...rounded(ACC[3]!), ...lowHalves,
    ...vop(I16X8_NARROW_I32X4_S),
    ...tee(W), ...get(W),
    ...vop(I8X16_NARROW_I16X8_U),
    ...vop(V128_STORE64_LANE), 0, 0, 0,
    ...plus(get(X), i32(8)), ...set(X),
  ];
  return [...vec([[4, I32], [5, V128]]), ...i32(0), ...set(X), ...whileNot([...get(X), ...get(COUNT), I32_GE_U], body), END];
}

/** paeth(src, dst, stride, height, bpp): locals y, x, q, u, o (i32); a, b, c, d1, d2, pa, pb, pc, lo (v128). */
function paethCode(): number[] {
  const [SRC, DST, STRIDE, HEIGHT, BPP, Y, X, Q, U, O] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [A, B, C, D1, D2, PA, PB, PC, LO] = [10, 11, 12, 13, 14, 15, 16, 17, 18];
  const load = (addr: number[]): number[] => [...addr, ...vop(V128_LOAD), 0, 0];
  // Predictor for one half (extend = low or high), as i16x8: a if pa ≤ pb and pa ≤ pc, else b if pb ≤ pc, else c.
  const half = (extend: number): number[] => [
    ...get(A), ...vop(extend), ...set(D1), // a (widened) kept in D1 for now
    ...get(B), ...vop(extend), ...set(PB), // b in PB
    ...get(C), ...vop(extend), ...set(PC), // c in PC
    // d1 = b − c → PA = |d1|; d2 = a − c → D2; pc = |d1 + d2|
    ...get(PB), ...get(PC), ...vop(I16X8_SUB), ...tee(PA), // d1
    ...get(D1), ...get(PC), ...vop(I16X8_SUB), ...tee(D2), // d2
    ...vop(I16X8_ADD), ...vop(I16X8_ABS), ...set(LO), // |d1 + d2| (pc) in LO
    ...get(PA), ...vop(I16X8_ABS), ...set(PA), // pa = |d1|
    ...get(D2), ...vop(I16X8_ABS), ...set(D2), // pb = |d2|
    // bitselect(a, bitselect(b, c, pb ≤ pc), pa ≤ pb & pa ≤ pc)
    ...get(D1),
    ...get(PB), ...get(PC), ...get(D2), ...get(LO), ...vop(I16X8_LE_S), ...vop(V128_BITSELECT),
    ...get(PA), ...get(D2), ...vop(I16X8_LE_S), ...get(PA), ...get(LO), ...vop(I16X8_LE_S), ...vop(V128_AND),
    ...vop(V128_BITSELECT),
  ];
  const row = [
    // q = src + y·stride (this row), u = q − stride (the row above), o = dst + y·(stride + 1) + 1
    ...plus(get(SRC), [...get(Y), ...get(STRIDE), I32_MUL]), ...set(Q),
    ...get(Q), ...get(STRIDE), I32_SUB, ...set(U),
    ...plus(plus(get(DST), [...get(Y), ...plus(get(STRIDE), i32(1)), I32_MUL]), i32(1)), ...set(O),
    ...get(BPP), ...set(X),
    ...whileNot([...get(X), ...get(STRIDE), I32_GE_U], [
      ...load([...plus(get(Q), get(X)), ...get(BPP), I32_SUB]), ...set(A),
      ...load(plus(get(U), get(X))), ...set(B),
      ...load([...plus(get(U), get(X)), ...get(BPP), I32_SUB]), ...set(C),
      // out = raw − predictor (bytes, wrapping)
      ...plus(get(O), get(X)),
      ...load(plus(get(Q), get(X))),
      ...half(I16X8_EXTEND_LOW_I8X16_U),
      ...half(I16X8_EXTEND_HIGH_I8X16_U),
      ...vop(I8X16_NARROW_I16X8_U),
      ...vop(I8X16_SUB),
      ...vop(V128_STORE), 0, 0,
      ...plus(get(X), i32(16)), ...set(X),
    ]),
    ...plus(get(Y), i32(1)), ...set(Y),
  ];
  return [...vec([[5, I32], [9, V128]]), ...i32(0), ...set(Y), ...whileNot([...get(Y), ...get(HEIGHT), I32_GE_U], row), END];
}

/** hrow3(src, tmp, dw, hs, hc, hw, htBytes): locals x, p, n, k, wp, o (i32); rg (v128); b, w (f64). */
function hrow3Code(): number[] {
  const [SRC, TMP, DW, HS, HC, HW, HT, X, P, N, K, WP, O, RG, B, WF] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const x4 = [...get(X), ...i32(2), I32_SHL];
  const weight = [...get(WP), F32_LOAD, 2, 0, F64_PROMOTE_F32, ...set(WF)];
  const rg = [...get(P), ...vop(V128_LOAD64_ZERO), 2, 0, ...vop(F64X2_PROMOTE_LOW_F32X4), ...get(WF), ...vop(F64X2_SPLAT), ...vop(F64X2_MUL)];
  const b = [...get(P), F32_LOAD, 2, 8, F64_PROMOTE_F32, ...get(WF), F64_MUL];
  const body = [
    ...plus(get(SRC), [...plus(get(HS), x4), I32_LOAD, 2, 0, ...i32(12), I32_MUL]), ...set(P),
    ...plus(get(HC), x4), I32_LOAD, 2, 0, ...set(N),
    ...plus(get(HW), [...get(X), ...get(HT), I32_MUL]), ...set(WP),
    ...weight,
    ...rg, ...set(RG),
    ...b, ...set(B),
    ...i32(1), ...set(K),
    ...whileNot([...get(K), ...get(N), I32_GE_U], [
      ...plus(get(P), i32(12)), ...set(P),
      ...plus(get(WP), i32(4)), ...set(WP),
      ...weight,
      ...get(RG), ...rg, ...vop(F64X2_ADD), ...set(RG),
      ...get(B), ...b, F64_ADD, ...set(B),
      ...plus(get(K), i32(1)), ...set(K),
    ]),
    ...get(O), ...get(RG), ...vop(F32X4_DEMOTE_F64X2_ZERO), ...vop(V128_STORE64_LANE), 2, 0, 0,
    ...get(O), ...get(B), F32_DEMOTE_F64, F32_STORE, 2, 8,
    ...plus(get(O), i32(12)), ...set(O),
    ...plus(get(X), i32(1)), ...set(X),
  ];
  return [...vec([[6, I32], [1, V128], [2, F64]]), ...i32(0), ...set(X), ...get(TMP), ...set(O), ...whileNot([...get(X), ...get(DW), I32_GE_U], body), END];
}

/**
 * halve3(src, dst, w, h): 16 RGB pixels (48 bytes) of two rows → 8 pixels per step. Each output
 * byte sums four bytes — a pixel's and its right neighbour's (3 bytes on), in both rows — so the
 * bytes at 3 past each load are loaded too, and both gathered by the same shuffles.
 * Locals: y, i, r0, r1, o (i32); a sum (v128).
 */
function halve3Code(): number[] {
  const [SRC, DST, W, H, Y, I, R0, R1, O, LO] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const load = (row: number, off: number): number[] => [...plus(get(row), get(I)), ...vop(V128_LOAD), 0, ...leb(off)];
  // Output bytes 0–15 of the step come from input bytes [0, 32); bytes 16–23 from [16, 48).
  const firstOf16 = [0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20, 24, 25, 26, 30];
  const firstOf8 = [15, 16, 20, 21, 22, 26, 27, 28, 0, 0, 0, 0, 0, 0, 0, 0];
  const gather = (row: number, off: number, lanes: number[]): number[] => [...load(row, off), ...load(row, off + 16), ...vop(I8X16_SHUFFLE), ...lanes];
  // Σ of the four gathered vectors, widened by `extend`, + 2, >> 2.
  const sum = (first: number, lanes: number[], extend: number): number[] => [
    ...gather(R0, first, lanes), ...vop(extend),
    ...gather(R0, first + 3, lanes), ...vop(extend), ...vop(I16X8_ADD),
    ...gather(R1, first, lanes), ...vop(extend), ...vop(I16X8_ADD),
    ...gather(R1, first + 3, lanes), ...vop(extend), ...vop(I16X8_ADD),
    ...i32(2), ...vop(I16X8_SPLAT), ...vop(I16X8_ADD),
    ...i32(2), ...vop(I16X8_SHR_U),
  ];
  const step = [
    ...get(O),
    ...sum(0, firstOf16, I16X8_EXTEND_LOW_I8X16_U), ...sum(0, firstOf16, I16X8_EXTEND_HIGH_I8X16_U), ...vop(I8X16_NARROW_I16X8_U),
    ...vop(V128_STORE), 0, 0,
    ...get(O),
    ...sum(16, firstOf8, I16X8_EXTEND_LOW_I8X16_U), ...tee(LO), ...get(LO), ...vop(I8X16_NARROW_I16X8_U),
    ...vop(V128_STORE64_LANE), 0, 16, 0,
    ...plus(get(I), i32(48)), ...set(I),
    ...plus(get(O), i32(24)), ...set(O),
  ];
  const row = [
    // r0 = src + 2y·3w, r1 = r0 + 3w, o = dst + y·3w/2
    ...plus(get(SRC), [...get(Y), ...get(W), I32_MUL, ...i32(6), I32_MUL]), ...set(R0),
    ...plus(get(R0), [...get(W), ...i32(3), I32_MUL]), ...set(R1),
    ...i32(0), ...set(I),
    ...whileNot([...get(I), ...get(W), ...i32(3), I32_MUL, I32_GE_U], step),
    ...plus(get(Y), i32(1)), ...set(Y),
  ];
  return [
    ...vec([[5, I32], [1, V128]]),
    ...get(DST), ...set(O),
    ...i32(0), ...set(Y),
    ...whileNot([...get(Y), ...get(H), ...i32(1), I32_SHR_U, I32_GE_U], row),
    END,
  ];
}

/** halve1(src, dst, w, h): 16 gray pixels of two rows → 8 per step. Locals: y, i, r0, r1, o (i32). */
function halve1Code(): number[] {
  const [SRC, DST, W, H, Y, I, R0, R1, O] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const pairs = (row: number): number[] => [...plus(get(row), get(I)), ...vop(V128_LOAD), 0, 0, ...vop(I16X8_EXTADD_PAIRWISE_I8X16_U)];
  const step = [
    ...get(O),
    ...pairs(R0), ...pairs(R1), ...vop(I16X8_ADD),
    ...i32(2), ...vop(I16X8_SPLAT), ...vop(I16X8_ADD),
    ...i32(2), ...vop(I16X8_SHR_U),
    ...tee(9), ...get(9), ...vop(I8X16_NARROW_I16X8_U),
    ...vop(V128_STORE64_LANE), 0, 0, 0,
    ...plus(get(I), i32(16)), ...set(I),
    ...plus(get(O), i32(8)), ...set(O),
  ];
  const row = [
    ...plus(get(SRC), [...get(Y), ...get(W), I32_MUL, ...i32(2), I32_MUL]), ...set(R0),
    ...plus(get(R0), get(W)), ...set(R1),
    ...i32(0), ...set(I),
    ...whileNot([...get(I), ...get(W), I32_GE_U], step),
    ...plus(get(Y), i32(1)), ...set(Y),
  ];
  return [...vec([[5, I32], [1, V128]]), ...get(DST), ...set(O), ...i32(0), ...set(Y), ...whileNot([...get(Y), ...get(H), ...i32(1), I32_SHR_U, I32_GE_U], row), END];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const functions = [vrowCode(), paethCode(), hrow3Code(), halve3Code(), halve1Code()];
  const params = (n: number): number[] => [0x60, ...vec(Array.from({ length: n }, () => [I32])), 0];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([params(6), params(5), params(7), params(4)])), // types: (i32 × 6, 5, 7, 4) → ()
    ...section(2, vec([[...name('m'), ...name('mem'), 0x02, 0x00, 0x01]])), // imports a memory, at least one page
    ...section(3, vec([[0], [1], [2], [3], [3]])), // each function's type
    ...section(7, vec(['vrow', 'paeth', 'hrow3', 'halve3', 'halve1'].map((n, i) => [...name(n), 0x00, i]))),
    ...section(10, vec(functions.map((f) => [...leb(f.length), ...f]))),
  ]);
}

let instance: Simd | null | undefined;

/** This thread's kernels, or null where WebAssembly SIMD is not available. */
export function simd(): Simd | null {
  if (instance !== undefined) return instance;
  instance = null;
  try {
    const bytes = moduleBytes();
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(bytes)) return null;
    const mem = new WebAssembly.Memory({ initial: 1 });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { mem } }).exports as unknown as Pick<Simd, 'vrow' | 'paeth' | 'hrow3' | 'halve3' | 'halve1'>;
    instance = {
      memory(bytes) {
        const have = mem.buffer.byteLength;
        if (bytes > have) mem.grow(Math.ceil((bytes - have) / 65536));
        return mem.buffer;
      },
      vrow: exports.vrow,
      paeth: exports.paeth,
      hrow3: exports.hrow3,
      halve3: exports.halve3,
      halve1: exports.halve1,
    };
  } catch {
    instance = null;
  }
  return instance;
}
