/**
 * Feetech STS/SCS packet codec (pure: bytes in, values out).
 *
 * Frame: FF FF ID LEN INSTR|ERR P... CHK, LEN = nParams + 2,
 * CHK = ~(ID + LEN + INSTR|ERR + ΣP) & 0xFF (shared/specs/lerobot.md §1.1).
 * The same frame layout carries instructions (host → servo) and status packets (servo → host).
 */
import { STS_CONTROL_TABLE, STS_SIGN_BITS, type StsRegister } from './tables';

export const FT_INST = {
  PING: 0x01,
  READ: 0x02,
  WRITE: 0x03,
  REG_WRITE: 0x04,
  ACTION: 0x05,
  RECOVERY: 0x06,
  RESET: 0x0a,
  CAL: 0x0b,
  SYNC_READ: 0x82,
  SYNC_WRITE: 0x83,
} as const;

export const FT_BROADCAST = 0xfe;
export const FT_MAX_PACKET = 250;

export type Endian = 'le' | 'be';

export function checksum(bytes: ArrayLike<number>, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += bytes[i]!;
  return ~sum & 0xff;
}

export function encodePacket(id: number, code: number, params: ArrayLike<number> = []): Uint8Array {
  const n = params.length;
  const out = new Uint8Array(n + 6);
  out[0] = 0xff;
  out[1] = 0xff;
  out[2] = id & 0xff;
  out[3] = n + 2;
  out[4] = code & 0xff;
  for (let i = 0; i < n; i++) out[5 + i] = params[i]! & 0xff;
  out[5 + n] = checksum(out, 2, 5 + n);
  return out;
}

export const encodePing = (id: number): Uint8Array => encodePacket(id, FT_INST.PING);
export const encodeRead = (id: number, address: number, length: number): Uint8Array => encodePacket(id, FT_INST.READ, [address, length]);
export const encodeWrite = (id: number, address: number, data: ArrayLike<number>): Uint8Array => encodePacket(id, FT_INST.WRITE, [address, ...Array.from(data)]);
export const encodeRegWrite = (id: number, address: number, data: ArrayLike<number>): Uint8Array => encodePacket(id, FT_INST.REG_WRITE, [address, ...Array.from(data)]);
export const encodeAction = (id: number = FT_BROADCAST): Uint8Array => encodePacket(id, FT_INST.ACTION);
export const encodeReset = (id: number): Uint8Array => encodePacket(id, FT_INST.RESET);

export function encodeSyncRead(address: number, length: number, ids: readonly number[]): Uint8Array {
  return encodePacket(FT_BROADCAST, FT_INST.SYNC_READ, [address, length, ...ids]);
}

export function encodeSyncWrite(address: number, length: number, entries: readonly { id: number; data: ArrayLike<number> }[]): Uint8Array {
  const params: number[] = [address, length];
  for (const e of entries) {
    if (e.data.length !== length) throw new RangeError(`sync write: servo ${e.id} has ${e.data.length} bytes, expected ${length}`);
    params.push(e.id, ...Array.from(e.data));
  }
  return encodePacket(FT_BROADCAST, FT_INST.SYNC_WRITE, params);
}

export function encodeStatus(id: number, error: number, data: ArrayLike<number> = []): Uint8Array {
  return encodePacket(id, error, data);
}

export interface Frame {
  id: number;
  /** Instruction code (instruction packet) or ERR byte (status packet). */
  code: number;
  params: Uint8Array;
}

export type ScanOutcome =
  | { kind: 'frame'; frame: Frame; start: number; end: number }
  | { kind: 'corrupt'; id: number; start: number; end: number; reason: string }
  | { kind: 'incomplete'; start: number };

/**
 * Finds the next frame in buf from `from`. Garbage before a header is skipped (resync on
 * FF FF as FTPy rxPacket does: an invalid ID or LEN drops one byte and looks again).
 * `start` of an incomplete outcome is where a frame may begin: bytes before it are garbage.
 */
export function scanFrame(buf: Uint8Array, from = 0): ScanOutcome {
  let i = from;
  while (i + 1 < buf.length) {
    if (buf[i] !== 0xff || buf[i + 1] !== 0xff) {
      i++;
      continue;
    }
    if (i + 4 > buf.length) return { kind: 'incomplete', start: i };
    const id = buf[i + 2]!;
    const len = buf[i + 3]!;
    if (id === 0xff || len < 2 || len > FT_MAX_PACKET - 4) {
      i++;
      continue;
    }
    const end = i + 4 + len;
    if (end > buf.length) return { kind: 'incomplete', start: i };
    const chk = checksum(buf, i + 2, end - 1);
    if (chk !== buf[end - 1]) return { kind: 'corrupt', id, start: i, end, reason: `checksum 0x${buf[end - 1]!.toString(16)} != 0x${chk.toString(16)}` };
    return { kind: 'frame', frame: { id, code: buf[i + 4]!, params: buf.slice(i + 5, end - 1) }, start: i, end };
  }
  return { kind: 'incomplete', start: buf.length > from && buf[buf.length - 1] === 0xff ? buf.length - 1 : buf.length };
}

/** Status ERR bits (FTPy ERRBIT_*; same bits as register 65 Status). */
export const FT_ERROR_BITS: readonly { mask: number; name: string; advice: string }[] = [
  { mask: 0x01, name: 'input_voltage', advice: 'check the power supply voltage (STS3215: 7.4 V for 7.4 V servos, 12 V for 12 V servos)' },
  { mask: 0x02, name: 'angle_sensor', advice: 'the magnetic encoder reported an error; power-cycle the servo' },
  { mask: 0x04, name: 'overheat', advice: 'let the servo cool down and reduce its load' },
  { mask: 0x08, name: 'overcurrent', advice: 'the joint is blocked or overloaded; free it and lower the load' },
  { mask: 0x10, name: 'bit4', advice: 'unknown status bit 4' },
  { mask: 0x20, name: 'overload', advice: 'the joint is pushing against something; free it and lower the load' },
  { mask: 0x40, name: 'bit6', advice: 'unknown status bit 6' },
  {
    mask: 0x80,
    name: 'invalid_status_bit7',
    advice: 'bit 7 is not a Feetech status bit (the vendor SDK rejects such a reply as corrupt): check that this servo is a Feetech STS/SCS and that no other device shares the bus',
  },
];

export function decodeErrorBits(err: number): string[] {
  return FT_ERROR_BITS.filter((b) => (err & b.mask) !== 0).map((b) => b.name);
}

export function errorAdvice(err: number): string {
  return FT_ERROR_BITS.filter((b) => (err & b.mask) !== 0)
    .map((b) => b.advice)
    .join('; ');
}

/** Sign-magnitude: bit `signBit` is the sign, bits below it the magnitude (LeRobot encoding_utils). */
export function encodeSignMagnitude(value: number, signBit: number): number {
  const max = (1 << signBit) - 1;
  const mag = Math.abs(value);
  if (!Number.isInteger(value) || mag > max) throw new RangeError(`Magnitude ${mag} exceeds ${max} (max for sign_bit_index=${signBit})`);
  return value < 0 ? (1 << signBit) | mag : mag;
}

export function decodeSignMagnitude(raw: number, signBit: number): number {
  const mag = raw & ((1 << signBit) - 1);
  return (raw >> signBit) & 1 ? -mag : mag;
}

export function intToBytes(value: number, size: number, endian: Endian = 'le'): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const b = (value >>> (8 * i)) & 0xff;
    out[endian === 'le' ? i : size - 1 - i] = b;
  }
  return out;
}

export function bytesToInt(bytes: ArrayLike<number>, size: number, endian: Endian = 'le', offset = 0): number {
  let v = 0;
  for (let i = 0; i < size; i++) {
    const b = bytes[offset + (endian === 'le' ? i : size - 1 - i)]!;
    v += b * 2 ** (8 * i);
  }
  return v;
}

/** Register value → bytes (sign-magnitude where the register has a sign bit). */
export function encodeRegister(reg: StsRegister, value: number, endian: Endian = 'le'): Uint8Array {
  const def = STS_CONTROL_TABLE[reg];
  const bit = STS_SIGN_BITS[reg];
  const raw = bit === undefined ? value : encodeSignMagnitude(Math.trunc(value), bit);
  if (bit === undefined && (raw < 0 || raw >= 2 ** (8 * def.size))) throw new RangeError(`${reg}: ${value} does not fit ${def.size} byte(s)`);
  return intToBytes(raw, def.size, endian);
}

export function decodeRegister(reg: StsRegister, bytes: ArrayLike<number>, endian: Endian = 'le', offset = 0): number {
  const def = STS_CONTROL_TABLE[reg];
  const raw = bytesToInt(bytes, def.size, endian, offset);
  const bit = STS_SIGN_BITS[reg];
  return bit === undefined ? raw : decodeSignMagnitude(raw, bit);
}
