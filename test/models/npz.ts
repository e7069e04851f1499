/**
 * Reader for numpy .npz files written by `numpy.savez` (an uncompressed zip of .npy arrays), for
 * golden data computed by reference implementations. Supports little-endian float32, float64 and
 * uint8 arrays in C order; anything else throws.
 */
import { readFileSync } from 'node:fs';

export interface NpyArray {
  shape: number[];
  data: Float32Array | Float64Array | Uint8Array;
}

export function readNpz(path: string): Record<string, NpyArray> {
  const buf = readFileSync(path);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${path}: not a zip file (no end of central directory)`);
  const entries = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const out: Record<string, NpyArray> = {};
  for (let e = 0; e < entries; e++) {
    if (dv.getUint32(p, true) !== 0x02014b50) throw new Error(`${path}: bad central directory entry ${e}`);
    const method = dv.getUint16(p + 10, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // zip64 extra field (id 1): the 0xFFFFFFFF fields in order uncompressed, compressed, local offset
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        if (size === 0xffffffff) { size = Number(dv.getBigUint64(q, true)); q += 8; }
        if (dv.getUint32(p + 20, true) === 0xffffffff) q += 8;
        if (local === 0xffffffff) local = Number(dv.getBigUint64(q, true));
      }
      x += 4 + len;
    }
    if (method !== 0) throw new Error(`${path}: ${name} is compressed (method ${method}); write it with numpy.savez`);
    const lName = dv.getUint16(local + 26, true);
    const lExtra = dv.getUint16(local + 28, true);
    const start = local + 30 + lName + lExtra;
    out[name.replace(/\.npy$/, '')] = parseNpy(buf.subarray(start, start + size), name);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

export function parseNpy(b: Buffer, name = 'array'): NpyArray {
  if (b[0] !== 0x93 || b.subarray(1, 6).toString('latin1') !== 'NUMPY') throw new Error(`${name}: not an .npy array`);
  const major = b[6]!;
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = b.subarray(hstart, hstart + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${name}: Fortran order is not supported`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const n = shape.reduce((a, v) => a * v, 1);
  const body = b.subarray(hstart + hlen);
  const copy = (bytes: number): ArrayBuffer => body.buffer.slice(body.byteOffset, body.byteOffset + n * bytes) as ArrayBuffer;
  if (descr === '<f4') return { shape, data: new Float32Array(copy(4)) };
  if (descr === '<f8') return { shape, data: new Float64Array(copy(8)) };
  if (descr === '|u1') return { shape, data: new Uint8Array(copy(1)) };
  throw new Error(`${name}: dtype ${descr} is not supported`);
}
