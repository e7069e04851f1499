/**
 * openpi's msgpack + numpy wire format, in TypeScript (pure). A numpy array travels as a msgpack
 * map whose keys are msgpack *binary* strings — what Python's msgpack makes of openpi's
 * `{b"__ndarray__": True, b"data": arr.tobytes(), b"dtype": arr.dtype.str, b"shape": arr.shape}` —
 * with the raw C-order bytes as binary, the dtype as numpy's `dtype.str` ("<f4", "|u1", ...) and the
 * shape as an array. openpi's decoder tests `b"__ndarray__" in obj`, so text keys would arrive as a
 * plain dict, not an array: the encoder writes binary keys. The decoder accepts both.
 *
 * Scalars, strings, bytes, arrays and nested maps go through @msgpack/msgpack; only the map headers
 * and the binary keys of an array map are written here (the library writes every map key as text).
 */
import { decode, encode } from '@msgpack/msgpack';

export type NumpyDtype = '<f4' | '<f8' | '|u1' | '|i1' | '<i2' | '<i4' | '<i8' | '<u2' | '<u4' | '|b1';

type TypedArray = Float32Array | Float64Array | Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint16Array | Uint32Array;

/** A numpy array: C-order data, numpy dtype string, shape. */
export class NdArray {
  constructor(readonly dtype: NumpyDtype, readonly shape: readonly number[], readonly data: TypedArray) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new RangeError(`ndarray: ${data.length} values for shape [${shape.join(', ')}]`);
  }
  static f32(shape: readonly number[], data: ArrayLike<number>): NdArray {
    return new NdArray('<f4', shape, Float32Array.from(data));
  }
  static u8(shape: readonly number[], data: Uint8Array): NdArray {
    return new NdArray('|u1', shape, data);
  }
  /** Values as JS numbers (bigints converted; may lose precision beyond 2^53). */
  toNumbers(): number[] {
    return Array.from(this.data as ArrayLike<number | bigint>, (v) => Number(v));
  }
}

const ITEMSIZE: Record<NumpyDtype, number> = { '<f4': 4, '<f8': 8, '|u1': 1, '|i1': 1, '<i2': 2, '<i4': 4, '<i8': 8, '<u2': 2, '<u4': 4, '|b1': 1 };

/** Values a message may hold: the shape of an observation or a reply. */
export type WireValue = null | boolean | number | string | Uint8Array | NdArray | WireValue[] | { [key: string]: WireValue };

/** A map (msgpack map), not an ndarray, binary, array, nil or scalar. */
export function isWireMap(v: WireValue | undefined): v is { [key: string]: WireValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof NdArray) && !(v instanceof Uint8Array);
}

const te = new TextEncoder();
const KEY = {
  nd: te.encode('__ndarray__'),
  data: te.encode('data'),
  dtype: te.encode('dtype'),
  shape: te.encode('shape'),
};

function mapHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x80 + n);
  if (n < 0x10000) return Uint8Array.of(0xde, n >> 8, n & 0xff);
  return Uint8Array.of(0xdf, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}
function arrayHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x90 + n);
  if (n < 0x10000) return Uint8Array.of(0xdc, n >> 8, n & 0xff);
  return Uint8Array.of(0xdd, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function bytesOf(a: TypedArray): Uint8Array {
  // numpy's "<" dtypes are little-endian; every platform Node runs on is too (checked at load below)
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) throw new Error('msgpackNumpy: big-endian hosts are not supported');

function write(v: WireValue, out: Uint8Array[]): void {
  if (v instanceof NdArray) {
    out.push(mapHeader(4), encode(KEY.nd), encode(true), encode(KEY.data), encode(bytesOf(v.data)), encode(KEY.dtype), encode(v.dtype), encode(KEY.shape), encode([...v.shape]));
  } else if (Array.isArray(v)) {
    out.push(arrayHeader(v.length));
    for (const x of v) write(x, out);
  } else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined);
    out.push(mapHeader(keys.length));
    for (const k of keys) {
      out.push(encode(k));
      write(v[k]!, out);
    }
  } else {
    out.push(encode(v));
  }
}

/** One msgpack message; NdArray values become openpi's binary-keyed array maps. */
export function packMessage(v: WireValue): Uint8Array {
  const parts: Uint8Array[] = [];
  write(v, parts);
  const n = parts.reduce((a, p) => a + p.length, 0);
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return buf;
}

export class WireFormatError extends Error {
  readonly code = 'REMOTE_BAD_MESSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

const td = new TextDecoder('utf-8', { fatal: true });
const keyConverter = (key: unknown): string | number => {
  if (typeof key === 'string' || typeof key === 'number') return key;
  if (key instanceof Uint8Array) return td.decode(key);
  throw new WireFormatError(`map key of type ${typeof key}`);
};

function toNdArray(m: Record<string, unknown>): NdArray {
  const dtype = m.dtype;
  const shape = m.shape;
  const data = m.data;
  if (typeof dtype !== 'string' || !(dtype in ITEMSIZE)) throw new WireFormatError(`unsupported ndarray dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) throw new WireFormatError(`ndarray shape ${JSON.stringify(shape)} is not a list of sizes`);
  if (!(data instanceof Uint8Array)) throw new WireFormatError('ndarray data is not binary');
  const dt = dtype as NumpyDtype;
  const n = (shape as number[]).reduce((a, b) => a * b, 1);
  if (data.byteLength !== n * ITEMSIZE[dt]) throw new WireFormatError(`ndarray of shape [${shape.join(', ')}] and dtype ${dt} needs ${n * ITEMSIZE[dt]} bytes, got ${data.byteLength}`);
  const copy = data.slice().buffer; // aligned, owned
  const arr: TypedArray = (() => {
    switch (dt) {
      case '<f4': return new Float32Array(copy);
      case '<f8': return new Float64Array(copy);
      case '|u1': case '|b1': return new Uint8Array(copy);
      case '|i1': return new Int8Array(copy);
      case '<i2': return new Int16Array(copy);
      case '<i4': return new Int32Array(copy);
      case '<i8': return new BigInt64Array(copy);
      case '<u2': return new Uint16Array(copy);
      case '<u4': return new Uint32Array(copy);
    }
  })();
  return new NdArray(dt, shape as number[], arr);
}

function revive(v: unknown): WireValue {
  if (v instanceof Uint8Array || v === null || typeof v !== 'object') {
    if (typeof v === 'bigint' || typeof v === 'undefined') throw new WireFormatError(`unexpected ${typeof v} value`);
    return v as WireValue;
  }
  if (Array.isArray(v)) return v.map(revive);
  const m = v as Record<string, unknown>;
  if (m.__ndarray__ === true) return toNdArray(m);
  if (m.__npgeneric__ === true) return revive(m.data);
  const out: Record<string, WireValue> = {};
  for (const [k, x] of Object.entries(m)) out[k] = revive(x);
  return out;
}

/** Decodes one message; binary map keys become text, array maps become NdArray. Throws WireFormatError. */
export function unpackMessage(bytes: Uint8Array): WireValue {
  let raw: unknown;
  try {
    raw = decode(bytes, { mapKeyConverter: keyConverter });
  } catch (e) {
    if (e instanceof WireFormatError) throw e;
    throw new WireFormatError(`not a msgpack message (${(e as Error).message})`);
  }
  return revive(raw);
}
