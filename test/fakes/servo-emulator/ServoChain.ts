/**
 * ServoChain: a chain of emulated Feetech STS3215 or Dynamixel X servos, byte for byte.
 *
 * Feed it the bytes the host wrote; it returns the bytes the servos answer (one chunk per
 * status packet). It keeps each servo's register memory (EEPROM/RAM, model number, ID),
 * torque, a physical position that moves toward the goal at a speed limit, return delay
 * and error bits, and injects faults: dropped replies, corrupted checksums, garbage bytes,
 * servos that disappear, wrong model numbers, overload/overheat bits.
 *
 * The clock is injected (ms) so motion is deterministic in tests.
 */
import * as ft from '../../../drivers/motors/feetech/codec';
import { STS_CONTROL_TABLE, FEETECH_MODEL_NUMBER } from '../../../drivers/motors/feetech/tables';
import * as dx from '../../../drivers/motors/dynamixel/codec';
import { X_CONTROL_TABLE, DXL_MODEL_NUMBER } from '../../../drivers/motors/dynamixel/tables';
import { xorshift32 } from './rng';

export type EmulatedProtocol = 'feetech' | 'dynamixel';

export interface ServoSpec {
  id: number;
  /** 'sts3215' or a Dynamixel model name such as 'xl330-m288'. */
  model: string;
  /** Initial physical position in ticks (default 2048). */
  position?: number;
}

export interface FaultConfig {
  /** Probability each status reply is dropped / has its checksum corrupted / gets garbage bytes before it. */
  dropRate: number;
  corruptRate: number;
  garbageRate: number;
  /** Replies to drop / corrupt / precede with garbage next, whatever the rates say. */
  dropNext: number;
  corruptNext: number;
  garbageNext: number;
  /** Servos that stopped answering (unplugged mid-session). */
  absent: Set<number>;
  /**
   * Mid-run fault bits: probability, per request, that one servo (picked at random) gains or
   * loses a fault bit (Feetech overload 0x20 / overheat 0x04 / voltage 0x01; Dynamixel the same
   * Hardware_Error_Status bits, shown as the 0x80 alert). The truth is in `errorBitsOf(id)`.
   */
  faultBitsRate: number;
}

export interface ChainStats {
  requests: number;
  replies: number;
  dropped: number;
  corrupted: number;
  garbage: number;
  badRequests: number;
  faultBitChanges: number;
}

export interface ServoChainOptions {
  protocol: EmulatedProtocol;
  servos: readonly ServoSpec[];
  clock?: () => number;
  /** Speed limit of motion toward the goal, ticks per second (Infinity or 0: jump to the goal at once). */
  speedTicksPerS?: number;
  seed?: number;
}

interface Servo {
  id: number;
  mem: Uint8Array;
  /** Physical shaft position, ticks (encoder frame before homing offset). */
  actual: number;
  /** Physical target while torque is on. */
  target: number;
  errorBits: number;
}

export class ServoChain {
  readonly protocol: EmulatedProtocol;
  readonly faults: FaultConfig = { dropRate: 0, corruptRate: 0, garbageRate: 0, dropNext: 0, corruptNext: 0, garbageNext: 0, absent: new Set(), faultBitsRate: 0 };
  readonly stats: ChainStats = { requests: 0, replies: 0, dropped: 0, corrupted: 0, garbage: 0, badRequests: 0, faultBitChanges: 0 };
  speedTicksPerS: number;
  private readonly servos = new Map<number, Servo>();
  private readonly clock: () => number;
  private lastMotionMs: number;
  private rx: Uint8Array = new Uint8Array(0);
  private readonly rand: () => number;

  constructor(opts: ServoChainOptions) {
    this.protocol = opts.protocol;
    this.clock = opts.clock ?? (() => performance.now());
    this.speedTicksPerS = opts.speedTicksPerS ?? 3000;
    this.rand = xorshift32(opts.seed ?? 12345);
    this.lastMotionMs = this.clock();
    for (const s of opts.servos) this.addServo(s);
  }

  // ---- test controls ---------------------------------------------------------------

  addServo(spec: ServoSpec): void {
    const mem = new Uint8Array(256);
    const pos = spec.position ?? 2048;
    const s: Servo = { id: spec.id, mem, actual: pos, target: pos, errorBits: 0 };
    if (this.protocol === 'feetech') {
      const model = FEETECH_MODEL_NUMBER[spec.model as keyof typeof FEETECH_MODEL_NUMBER] ?? 777;
      this.put(s, STS_CONTROL_TABLE.Firmware_Major_Version.address, [3]);
      this.put(s, STS_CONTROL_TABLE.Firmware_Minor_Version.address, [10]);
      this.putU(s, STS_CONTROL_TABLE.Model_Number.address, 2, model);
      this.put(s, STS_CONTROL_TABLE.ID.address, [spec.id]);
      this.put(s, STS_CONTROL_TABLE.Return_Delay_Time.address, [0]);
      this.putU(s, STS_CONTROL_TABLE.Max_Position_Limit.address, 2, 4095);
      this.put(s, STS_CONTROL_TABLE.Phase.address, [0x10]);
      this.put(s, STS_CONTROL_TABLE.P_Coefficient.address, [32]);
      this.putU(s, STS_CONTROL_TABLE.Max_Torque_Limit.address, 2, 1000);
      this.put(s, STS_CONTROL_TABLE.Present_Voltage.address, [121]);
      this.put(s, STS_CONTROL_TABLE.Present_Temperature.address, [33]);
    } else {
      const model = DXL_MODEL_NUMBER[spec.model as keyof typeof DXL_MODEL_NUMBER] ?? 1200;
      this.putU(s, X_CONTROL_TABLE.Model_Number.address, 2, model);
      this.put(s, X_CONTROL_TABLE.Firmware_Version.address, [52]);
      this.put(s, X_CONTROL_TABLE.ID.address, [spec.id]);
      this.put(s, X_CONTROL_TABLE.Baud_Rate.address, [3]);
      this.put(s, X_CONTROL_TABLE.Return_Delay_Time.address, [0]);
      this.put(s, X_CONTROL_TABLE.Operating_Mode.address, [3]);
      this.putU(s, X_CONTROL_TABLE.Max_Position_Limit.address, 4, 4095);
      this.putU(s, X_CONTROL_TABLE.Present_Input_Voltage.address, 2, 50);
      this.put(s, X_CONTROL_TABLE.Present_Temperature.address, [31]);
      this.put(s, X_CONTROL_TABLE.Status_Return_Level.address, [2]);
    }
    this.servos.set(spec.id, s);
  }

  ids(): number[] {
    return [...this.servos.keys()];
  }

  /** The operator moves a joint by hand (torque off), or the test places it. */
  setPosition(id: number, ticks: number): void {
    const s = this.servo(id);
    s.actual = ticks;
    s.target = ticks;
  }

  /** Physical position (ticks), after advancing motion to now. */
  position(id: number): number {
    this.advance();
    return this.servo(id).actual;
  }

  setModelNumber(id: number, model: number): void {
    this.putU(this.servo(id), this.protocol === 'feetech' ? 3 : 0, 2, model);
  }

  /** Sets fault bits (Feetech: ERR/Status bits like 0x20 overload, 0x04 overheat; Dynamixel: Hardware_Error_Status bits). */
  setErrorBits(id: number, bits: number): void {
    const s = this.servo(id);
    s.errorBits = bits;
    if (this.protocol === 'feetech') s.mem[STS_CONTROL_TABLE.Status.address] = bits;
    else s.mem[X_CONTROL_TABLE.Hardware_Error_Status.address] = bits;
  }

  errorBitsOf(id: number): number {
    return this.servo(id).errorBits;
  }

  /**
   * The truth: the value register `address` (size bytes, raw) holds for servo `id` right now.
   * Tests compare what the driver returned as good against it.
   */
  truth(id: number, address: number, size: number): number {
    return this.register(id, address, size);
  }

  setRegister(id: number, address: number, size: number, value: number): void {
    this.putU(this.servo(id), address, size, value < 0 ? value + 2 ** (8 * size) : value);
  }

  register(id: number, address: number, size: number): number {
    this.advance();
    this.refresh(this.servo(id));
    return this.getU(this.servo(id), address, size);
  }

  torque(id: number): boolean {
    return this.servo(id).mem[this.protocol === 'feetech' ? 40 : 64] === 1;
  }

  /** Total return delay (µs) of the given servos' replies, from their Return_Delay_Time registers (2 µs units). */
  returnDelayUs(id: number): number {
    const s = this.servos.get(id);
    if (!s) return 0;
    return 2 * s.mem[this.protocol === 'feetech' ? 7 : 9]!;
  }

  // ---- byte stream -------------------------------------------------------------------

  /** Feeds host bytes; returns the reply chunks (each possibly preceded by garbage), with the servo each belongs to. */
  feed(bytes: Uint8Array): { requestBytes: number; replies: { id: number; bytes: Uint8Array }[] }[] {
    const buf = new Uint8Array(this.rx.length + bytes.length);
    buf.set(this.rx);
    buf.set(bytes, this.rx.length);
    const out: { requestBytes: number; replies: { id: number; bytes: Uint8Array }[] }[] = [];
    let pos = 0;
    for (;;) {
      const s = this.protocol === 'feetech' ? ft.scanFrame(buf, pos) : dx.scanFrame(buf, pos);
      if (s.kind === 'incomplete') {
        pos = s.start;
        break;
      }
      pos = s.end;
      if (s.kind === 'corrupt') {
        this.stats.badRequests++;
        continue;
      }
      this.stats.requests++;
      this.maybeFlipFaultBits();
      const replies = this.protocol === 'feetech' ? this.handleFeetech(s.frame as ft.Frame) : this.handleDynamixel(s.frame as dx.Packet);
      out.push({ requestBytes: s.end - s.start, replies: replies.map((r) => ({ id: r.id, bytes: this.applyFaults(r.bytes) })).filter((r) => r.bytes.length > 0) });
    }
    this.rx = buf.slice(pos);
    return out;
  }

  // ---- internals ---------------------------------------------------------------------


  private maybeFlipFaultBits(): void {
    if (!(this.faults.faultBitsRate > 0) || this.rand() >= this.faults.faultBitsRate) return;
    const ids = this.ids();
    const id = ids[Math.floor(this.rand() * ids.length)]!;
    const bits = [0x20, 0x04, 0x01][Math.floor(this.rand() * 3)]!;
    const s = this.servo(id);
    this.setErrorBits(id, s.errorBits & bits ? s.errorBits & ~bits : s.errorBits | bits);
    this.stats.faultBitChanges++;
  }

  private applyFaults(reply: Uint8Array): Uint8Array {
    const f = this.faults;
    if (f.dropNext > 0 || (f.dropRate > 0 && this.rand() < f.dropRate)) {
      if (f.dropNext > 0) f.dropNext--;
      this.stats.dropped++;
      return new Uint8Array(0);
    }
    let out = reply;
    if (f.corruptNext > 0 || (f.corruptRate > 0 && this.rand() < f.corruptRate)) {
      if (f.corruptNext > 0) f.corruptNext--;
      out = out.slice();
      out[out.length - 1] = out[out.length - 1]! ^ 0x5a;
      this.stats.corrupted++;
    }
    if (f.garbageNext > 0 || (f.garbageRate > 0 && this.rand() < f.garbageRate)) {
      if (f.garbageNext > 0) f.garbageNext--;
      // Line noise: bytes that never form a header (no 0xFF).
      const n = 1 + Math.floor(this.rand() * 5);
      const g = new Uint8Array(n + out.length);
      for (let i = 0; i < n; i++) g[i] = Math.floor(this.rand() * 0xfe);
      g.set(out, n);
      out = g;
      this.stats.garbage++;
    }
    this.stats.replies++;
    return out;
  }

  private servo(id: number): Servo {
    const s = this.servos.get(id);
    if (!s) throw new Error(`emulator: no servo ${id}`);
    return s;
  }

  private live(id: number): Servo | undefined {
    return this.faults.absent.has(id) ? undefined : this.servos.get(id);
  }

  private put(s: Servo, addr: number, data: ArrayLike<number>): void {
    for (let i = 0; i < data.length; i++) s.mem[addr + i] = data[i]!;
  }
  private putU(s: Servo, addr: number, size: number, v: number): void {
    for (let i = 0; i < size; i++) s.mem[addr + i] = Math.floor(v / 2 ** (8 * i)) & 0xff;
  }
  private getU(s: Servo, addr: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v += s.mem[addr + i]! * 2 ** (8 * i);
    return v;
  }
  private getS(s: Servo, addr: number, size: number): number {
    const v = this.getU(s, addr, size);
    return v >= 2 ** (8 * size - 1) ? v - 2 ** (8 * size) : v;
  }

  private advance(): void {
    const now = this.clock();
    const dt = Math.max(0, (now - this.lastMotionMs) / 1000);
    this.lastMotionMs = now;
    for (const s of this.servos.values()) {
      if (!this.torqueOn(s)) continue;
      const d = s.target - s.actual;
      const instant = !Number.isFinite(this.speedTicksPerS) || this.speedTicksPerS <= 0;
      const step = this.speedTicksPerS * dt;
      s.actual = instant || Math.abs(d) <= step ? s.target : s.actual + Math.sign(d) * step;
    }
  }

  private torqueOn(s: Servo): boolean {
    return s.mem[this.protocol === 'feetech' ? 40 : 64] === 1;
  }

  // Feetech: Present = Actual − Homing_Offset (sign-magnitude, bit 11), wrapped to 0..4095.
  private ftHoming(s: Servo): number {
    return ft.decodeSignMagnitude(this.getU(s, 31, 2), 11);
  }
  // Dynamixel: Present = Actual + Homing_Offset; Drive_Mode bit0 reverses direction.
  private dxPresent(s: Servo, actual: number): number {
    const rev = (s.mem[10]! & 1) === 1;
    return Math.round(rev ? -actual : actual) + this.getS(s, 20, 4);
  }

  /** Writes the computed RO registers (present position, status) into memory before a read. */
  private refresh(s: Servo): void {
    if (this.protocol === 'feetech') {
      const present = (((Math.round(s.actual) - this.ftHoming(s)) % 4096) + 4096) % 4096;
      this.putU(s, 56, 2, ft.encodeSignMagnitude(present, 15));
      this.putU(s, 60, 2, (s.errorBits & 0x20) !== 0 ? 1000 : 0);
      this.putU(s, 66, 1, Math.abs(s.target - s.actual) > 0.5 && this.torqueOn(s) ? 1 : 0);
      s.mem[65] = s.errorBits;
    } else {
      const p = this.dxPresent(s, s.actual);
      this.putU(s, 132, 4, p < 0 ? p + 2 ** 32 : p);
      this.putU(s, 122, 1, Math.abs(s.target - s.actual) > 0.5 && this.torqueOn(s) ? 1 : 0);
      s.mem[70] = s.errorBits;
    }
  }

  private statusFor(s: Servo, data: ArrayLike<number> = [], err?: number): { id: number; bytes: Uint8Array } {
    if (this.protocol === 'feetech') return { id: s.id, bytes: ft.encodeStatus(s.id, err ?? s.errorBits, data) };
    return { id: s.id, bytes: dx.encodeStatus(s.id, err ?? (s.errorBits !== 0 ? 0x80 : 0), data) };
  }

  private readMem(s: Servo, addr: number, len: number): Uint8Array {
    this.refresh(s);
    return s.mem.slice(addr, addr + len);
  }

  /** Applies a register write; returns a Dynamixel result error code (0 ok, 7 access error). */
  private writeMem(s: Servo, addr: number, data: Uint8Array): number {
    if (this.protocol === 'feetech') {
      this.put(s, addr, data);
      if (addr <= 5 && addr + data.length > 5) {
        // ID change: re-key the servo.
        this.servos.delete(s.id);
        s.id = s.mem[5]!;
        this.servos.set(s.id, s);
      }
      if (addr <= 40 && addr + data.length > 40) {
        if (s.mem[40] === 1) {
          s.target = s.actual;
          const present = (((Math.round(s.actual) - this.ftHoming(s)) % 4096) + 4096) % 4096;
          if (!(addr <= 42 && addr + data.length > 42)) this.putU(s, 42, 2, present);
        }
      }
      if (addr <= 42 && addr + data.length > 42) {
        let goal = ft.decodeSignMagnitude(this.getU(s, 42, 2), 15);
        const min = this.getU(s, 9, 2);
        const max = this.getU(s, 11, 2);
        if (min !== 0 || max !== 0) goal = Math.min(Math.max(goal, min), max);
        // Move the short way round to the goal in the present frame.
        const present = (((Math.round(s.actual) - this.ftHoming(s)) % 4096) + 4096) % 4096;
        s.target = s.actual + (goal - present);
      }
      return 0;
    }
    const def = X_CONTROL_TABLE;
    const touchesEeprom = addr < def.Torque_Enable.address;
    if (touchesEeprom && s.mem[64] === 1) return 7; // access error: EEPROM is locked while torque is on
    this.put(s, addr, data);
    if (addr <= 7 && addr + data.length > 7) {
      this.servos.delete(s.id);
      s.id = s.mem[7]!;
      this.servos.set(s.id, s);
    }
    if (addr <= 64 && addr + data.length > 64 && s.mem[64] === 1 && !(addr <= 116 && addr + data.length > 116)) {
      s.target = s.actual;
      const p = this.dxPresent(s, s.actual);
      this.putU(s, 116, 4, p < 0 ? p + 2 ** 32 : p);
    }
    if (addr <= 116 && addr + data.length > 116) {
      let goal = this.getS(s, 116, 4);
      if (s.mem[11] === 3) goal = Math.min(Math.max(goal, this.getU(s, 52, 4)), this.getU(s, 48, 4));
      const rev = (s.mem[10]! & 1) === 1;
      const phys = goal - this.getS(s, 20, 4);
      s.target = rev ? -phys : phys;
    }
    return 0;
  }

  private handleFeetech(f: ft.Frame): { id: number; bytes: Uint8Array }[] {
    this.advance();
    const p = f.params;
    const bcast = f.id === ft.FT_BROADCAST;
    switch (f.code) {
      case ft.FT_INST.PING: {
        const targets = bcast ? [...this.servos.values()].filter((s) => this.live(s.id)) : [this.live(f.id)].filter((s): s is Servo => !!s);
        return targets.sort((a, b) => a.id - b.id).map((s) => this.statusFor(s));
      }
      case ft.FT_INST.READ: {
        const s = this.live(f.id);
        if (!s || p.length < 2) return [];
        return [this.statusFor(s, this.readMem(s, p[0]!, p[1]!))];
      }
      case ft.FT_INST.WRITE: {
        const targets = bcast ? [...this.servos.values()].filter((s) => this.live(s.id)) : [this.live(f.id)].filter((s): s is Servo => !!s);
        for (const s of targets) this.writeMem(s, p[0]!, p.slice(1));
        return bcast ? [] : targets.map((s) => this.statusFor(s));
      }
      case ft.FT_INST.SYNC_READ: {
        const [addr, len] = [p[0]!, p[1]!];
        const out: { id: number; bytes: Uint8Array }[] = [];
        for (const id of p.slice(2)) {
          const s = this.live(id);
          if (s) out.push(this.statusFor(s, this.readMem(s, addr, len)));
        }
        return out;
      }
      case ft.FT_INST.SYNC_WRITE: {
        const [addr, len] = [p[0]!, p[1]!];
        for (let i = 2; i + 1 + len <= p.length; i += len + 1) {
          const s = this.live(p[i]!);
          if (s) this.writeMem(s, addr, p.slice(i + 1, i + 1 + len));
        }
        return [];
      }
      default: {
        const s = bcast ? undefined : this.live(f.id);
        return s ? [this.statusFor(s)] : [];
      }
    }
  }

  private handleDynamixel(f: dx.Packet): { id: number; bytes: Uint8Array }[] {
    this.advance();
    if (f.instr === dx.DXL_INST.STATUS) return [];
    const p = f.params;
    const bcast = f.id === dx.DXL_BROADCAST;
    const u16 = (i: number): number => p[i]! | (p[i + 1]! << 8);
    switch (f.instr) {
      case dx.DXL_INST.PING: {
        const targets = bcast ? [...this.servos.values()].filter((s) => this.live(s.id)) : [this.live(f.id)].filter((s): s is Servo => !!s);
        return targets.sort((a, b) => a.id - b.id).map((s) => this.statusFor(s, [s.mem[0]!, s.mem[1]!, s.mem[6]!]));
      }
      case dx.DXL_INST.READ: {
        const s = this.live(f.id);
        if (!s || p.length < 4) return [];
        return [this.statusFor(s, this.readMem(s, u16(0), u16(2)))];
      }
      case dx.DXL_INST.WRITE: {
        const targets = bcast ? [...this.servos.values()].filter((s) => this.live(s.id)) : [this.live(f.id)].filter((s): s is Servo => !!s);
        const errs = targets.map((s) => this.writeMem(s, u16(0), p.slice(2)));
        return bcast ? [] : targets.map((s, i) => this.statusFor(s, [], errs[i]! | (s.errorBits ? 0x80 : 0)));
      }
      case dx.DXL_INST.SYNC_READ: {
        const [addr, len] = [u16(0), u16(2)];
        const out: { id: number; bytes: Uint8Array }[] = [];
        for (const id of p.slice(4)) {
          const s = this.live(id);
          if (s) out.push(this.statusFor(s, this.readMem(s, addr, len)));
        }
        return out;
      }
      case dx.DXL_INST.SYNC_WRITE: {
        const [addr, len] = [u16(0), u16(2)];
        for (let i = 4; i + 1 + len <= p.length; i += len + 1) {
          const s = this.live(p[i]!);
          if (s) this.writeMem(s, addr, p.slice(i + 1, i + 1 + len));
        }
        return [];
      }
      case dx.DXL_INST.REBOOT: {
        const s = this.live(f.id);
        if (!s) return [];
        this.setErrorBits(s.id, 0);
        s.mem[64] = 0;
        return [this.statusFor(s)];
      }
      default: {
        const s = bcast ? undefined : this.live(f.id);
        return s ? [this.statusFor(s, [], 0x02)] : [];
      }
    }
  }
}
