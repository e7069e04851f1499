/**
 * Dynamixel Protocol 2.0 packet codec (pure).
 *
 * Instruction: FF FF FD 00 ID LEN_L LEN_H INSTR P... CRC_L CRC_H, LEN = nParams(after stuffing) + 3.
 * Status:      FF FF FD 00 ID LEN_L LEN_H 55 ERR P... CRC_L CRC_H.
 * CRC-16: poly 0x8005, init 0, not reflected, no final XOR, over every byte from the first FF
 * to the last param (after stuffing), stored little-endian. Byte stuffing: FF FF FD inside the
 * INSTR..params region gets an extra FD (shared/specs/lerobot.md §2.1).
 */
import { X_CONTROL_TABLE, X_SIGNED, type XRegister } from './tables';

export const DXL_INST = {
  PING: 0x01,
  READ: 0x02,
  WRITE: 0x03,
  REG_WRITE: 0x04,
  ACTION: 0x05,
  FACTORY_RESET: 0x06,
  REBOOT: 0x08,
  CLEAR: 0x10,
  STATUS: 0x55,
  SYNC_READ: 0x82,
  SYNC_WRITE: 0x83,
  FAST_SYNC_READ: 0x8a,
  BULK_READ: 0x92,
  BULK_WRITE: 0x93,
} as const;

export const DXL_BROADCAST = 0xfe;
export const DXL_MAX_PACKET = 1024;

const CRC_TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16(bytes: ArrayLike<number>, start = 0, end = bytes.length, init = 0): number {
  let crc = init;
  for (let j = start; j < end; j++) {
    const i = ((crc >> 8) ^ bytes[j]!) & 0xff;
    crc = ((crc << 8) ^ CRC_TABLE[i]!) & 0xffff;
  }
  return crc;
}

/** Inserts FD after every FF FF FD in `body` (the INSTR..params region). */
export function stuff(body: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    out.push(body[i]!);
    const n = out.length;
    if (n >= 3 && out[n - 3] === 0xff && out[n - 2] === 0xff && out[n - 1] === 0xfd) out.push(0xfd);
  }
  return out;
}

/** Removes the FD that follows every FF FF FD (looking at the received bytes, as DXL removeStuffing does). */
export function unstuff(body: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (i >= 3 && body[i] === 0xfd && body[i - 1] === 0xfd && body[i - 2] === 0xff && body[i - 3] === 0xff) continue;
    out.push(body[i]!);
  }
  return out;
}

function frame(id: number, body: number[]): Uint8Array {
  const stuffed = stuff(body);
  const len = stuffed.length + 2;
  const out = new Uint8Array(7 + stuffed.length + 2);
  out.set([0xff, 0xff, 0xfd, 0x00, id & 0xff, len & 0xff, (len >> 8) & 0xff], 0);
  out.set(stuffed, 7);
  const crc = crc16(out, 0, out.length - 2);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >> 8;
  return out;
}

export function encodeInstruction(id: number, instr: number, params: ArrayLike<number> = []): Uint8Array {
  return frame(id, [instr, ...Array.from(params)]);
}

export function encodeStatus(id: number, error: number, params: ArrayLike<number> = []): Uint8Array {
  return frame(id, [DXL_INST.STATUS, error, ...Array.from(params)]);
}

const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];

export const encodePing = (id: number): Uint8Array => encodeInstruction(id, DXL_INST.PING);
export const encodeRead = (id: number, address: number, length: number): Uint8Array => encodeInstruction(id, DXL_INST.READ, [...u16(address), ...u16(length)]);
export const encodeWrite = (id: number, address: number, data: ArrayLike<number>): Uint8Array => encodeInstruction(id, DXL_INST.WRITE, [...u16(address), ...Array.from(data)]);
export const encodeReboot = (id: number): Uint8Array => encodeInstruction(id, DXL_INST.REBOOT);

export function encodeSyncRead(address: number, length: number, ids: readonly number[]): Uint8Array {
  return encodeInstruction(DXL_BROADCAST, DXL_INST.SYNC_READ, [...u16(address), ...u16(length), ...ids]);
}

export function encodeSyncWrite(address: number, length: number, entries: readonly { id: number; data: ArrayLike<number> }[]): Uint8Array {
  const params = [...u16(address), ...u16(length)];
  for (const e of entries) {
    if (e.data.length !== length) throw new RangeError(`sync write: servo ${e.id} has ${e.data.length} bytes, expected ${length}`);
    params.push(e.id, ...Array.from(e.data));
  }
  return encodeInstruction(DXL_BROADCAST, DXL_INST.SYNC_WRITE, params);
}

export interface Packet {
  id: number;
  instr: number;
  /** Status packets only. */
  error: number;
  /** Params after unstuffing (for status packets: after the ERR byte). */
  params: Uint8Array;
}

export type ScanOutcome =
  | { kind: 'frame'; frame: Packet; start: number; end: number }
  | { kind: 'corrupt'; id: number; start: number; end: number; reason: string }
  | { kind: 'incomplete'; start: number };

/** Finds the next packet (instruction or status) in buf; garbage before FF FF FD is skipped. */
export function scanFrame(buf: Uint8Array, from = 0): ScanOutcome {
  let i = from;
  while (i + 2 < buf.length) {
    if (buf[i] !== 0xff || buf[i + 1] !== 0xff || buf[i + 2] !== 0xfd) {
      i++;
      continue;
    }
    if (i + 7 > buf.length) return { kind: 'incomplete', start: i };
    const reserved = buf[i + 3]!;
    const id = buf[i + 4]!;
    const len = buf[i + 5]! | (buf[i + 6]! << 8);
    if (reserved === 0xfd || id === 0xff || len < 3 || len > DXL_MAX_PACKET) {
      i++;
      continue;
    }
    const end = i + 7 + len;
    if (end > buf.length) return { kind: 'incomplete', start: i };
    const crc = crc16(buf, i, end - 2);
    const got = buf[end - 2]! | (buf[end - 1]! << 8);
    if (crc !== got) return { kind: 'corrupt', id, start: i, end, reason: `CRC 0x${got.toString(16)} != 0x${crc.toString(16)}` };
    const body = unstuff(buf.subarray(i + 7, end - 2));
    const instr = body[0]!;
    if (instr === DXL_INST.STATUS) {
      return { kind: 'frame', frame: { id, instr, error: body[1] ?? 0, params: Uint8Array.from(body.slice(2)) }, start: i, end };
    }
    return { kind: 'frame', frame: { id, instr, error: 0, params: Uint8Array.from(body.slice(1)) }, start: i, end };
  }
  return { kind: 'incomplete', start: Math.max(from, Math.min(i, buf.length)) };
}

/** Status ERR byte: bit 7 = hardware alert (see Hardware_Error_Status), low 7 bits = result code. */
const RESULT_ERRORS: Record<number, string> = {
  1: 'result_fail',
  2: 'instruction_error',
  3: 'crc_error',
  4: 'data_range_error',
  5: 'data_length_error',
  6: 'data_limit_error',
  7: 'access_error',
};

export function decodeErrorBits(err: number): string[] {
  const out: string[] = [];
  if (err & 0x80) out.push('hardware_alert');
  const r = err & 0x7f;
  if (r) out.push(RESULT_ERRORS[r] ?? `error_${r}`);
  return out;
}

/** Hardware_Error_Status @70 bits (ROBOTIS e-manual). */
export const DXL_HW_ERROR_BITS: readonly { mask: number; name: string; advice: string }[] = [
  { mask: 0x01, name: 'input_voltage', advice: 'check the supply voltage' },
  { mask: 0x04, name: 'overheat', advice: 'let the servo cool down and reduce its load' },
  { mask: 0x08, name: 'motor_encoder', advice: 'encoder fault; power-cycle the servo' },
  { mask: 0x10, name: 'electrical_shock', advice: 'electrical fault; check wiring and power-cycle' },
  { mask: 0x20, name: 'overload', advice: 'the joint is pushing against something; free it and reboot the servo' },
];

export function decodeHardwareError(bits: number): string[] {
  return DXL_HW_ERROR_BITS.filter((b) => (bits & b.mask) !== 0).map((b) => b.name);
}

export function intToBytes(value: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (value >>> (8 * i)) & 0xff;
  return out;
}

export function bytesToUint(bytes: ArrayLike<number>, size: number, offset = 0): number {
  let v = 0;
  for (let i = 0; i < size; i++) v += bytes[offset + i]! * 2 ** (8 * i);
  return v;
}

export function toSigned(raw: number, size: number): number {
  const bits = 8 * size;
  return raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
}

export function encodeRegister(reg: XRegister, value: number): Uint8Array {
  const def = X_CONTROL_TABLE[reg];
  const v = Math.trunc(value);
  const bits = 8 * def.size;
  if (X_SIGNED.has(reg)) {
    if (v < -(2 ** (bits - 1)) || v >= 2 ** (bits - 1)) throw new RangeError(`${reg}: ${value} does not fit ${def.size} signed byte(s)`);
  } else if (v < 0 || v >= 2 ** bits) throw new RangeError(`${reg}: ${value} does not fit ${def.size} byte(s)`);
  return intToBytes(v < 0 ? v + 2 ** bits : v, def.size);
}

export function decodeRegister(reg: XRegister, bytes: ArrayLike<number>, offset = 0): number {
  const def = X_CONTROL_TABLE[reg];
  const raw = bytesToUint(bytes, def.size, offset);
  return X_SIGNED.has(reg) ? toSigned(raw, def.size) : raw;
}
