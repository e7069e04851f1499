/**
 * Binary framing of camera previews on the WebSocket (never JSON arrays of numbers):
 *   u8 version(1) | u8 keyLen | key (utf-8) | u16 width | u16 height | u32 seq | f64 timeMs | RGB24 bytes
 * Little-endian. Pure: used by the host (encode) and the renderer (decode).
 */
import type { FramePacket } from './contract';

export const FRAME_VERSION = 1;

export function encodeFrame(f: FramePacket): Uint8Array {
  const key = new TextEncoder().encode(f.camera);
  if (key.length > 255) throw new Error('camera key too long');
  const headerLen = 2 + key.length + 2 + 2 + 4 + 8;
  const out = new Uint8Array(headerLen + f.data.length);
  const dv = new DataView(out.buffer);
  out[0] = FRAME_VERSION;
  out[1] = key.length;
  out.set(key, 2);
  let o = 2 + key.length;
  dv.setUint16(o, f.width, true);
  dv.setUint16(o + 2, f.height, true);
  dv.setUint32(o + 4, f.seq >>> 0, true);
  dv.setFloat64(o + 8, f.timeMs, true);
  o += 16;
  out.set(f.data, o);
  return out;
}

export function decodeFrame(buf: Uint8Array): FramePacket {
  if (buf.length < 18 || buf[0] !== FRAME_VERSION) throw new Error('not a frame message');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const keyLen = buf[1]!;
  const camera = new TextDecoder().decode(buf.subarray(2, 2 + keyLen));
  let o = 2 + keyLen;
  const width = dv.getUint16(o, true);
  const height = dv.getUint16(o + 2, true);
  const seq = dv.getUint32(o + 4, true);
  const timeMs = dv.getFloat64(o + 8, true);
  o += 16;
  const data = buf.subarray(o);
  if (data.length !== width * height * 3) throw new Error(`frame size mismatch: ${data.length} bytes for ${width}x${height}`);
  return { camera, width, height, seq, timeMs, data };
}
