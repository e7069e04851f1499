/**
 * MotorGroup: an arm's named motors on one bus, with calibration and normalisation applied
 * in one place (LeRobot's SerialMotorsBus role). Robots and leader arms are thin on top of it.
 *
 * Positions in and out are normalised (degrees for body joints, 0..100 for the gripper, or
 * -100..100), ordered as `names`. Ticks stay inside.
 */
import type { LatencyReport, ServoBus, SyncReadResult } from './ServoBus';
import { CalibrationError, dedupeFaults, MotorCheckError, MotorFaultError, TorqueOffError, type MotorFault } from './errors';
import { halfTurnHoming, normalize, normalizedRange, unnormalize, type MotorCalibration, type NormMode } from './normalize';

export interface MotorDef {
  id: number;
  /** Model name, e.g. 'sts3215', 'xl330-m288'. */
  model: string;
  /** Model number the servo must report. */
  modelNumber: number;
  norm: NormMode;
}

export interface HealthEntry {
  joint: string;
  id: number;
  temperatureC?: number;
  voltageV?: number;
  load?: number;
  errorBits: string[];
}

export type Calibration = Record<string, MotorCalibration>;

// Register names both vendor tables share; the group uses only these (plus vendor branches).
type Common = 'Torque_Enable' | 'Goal_Position' | 'Present_Position' | 'Homing_Offset' | 'Min_Position_Limit' | 'Max_Position_Limit' | 'Operating_Mode' | 'Model_Number';

export class MotorGroup<R extends string> {
  readonly bus: ServoBus<R>;
  readonly motors: Readonly<Record<string, MotorDef>>;
  readonly names: readonly string[];
  readonly ids: readonly number[];
  calibration: Calibration | undefined;

  constructor(bus: ServoBus<R>, motors: Record<string, MotorDef>) {
    this.bus = bus;
    this.motors = motors;
    this.names = Object.keys(motors);
    this.ids = this.names.map((n) => motors[n]!.id);
    bus.names = new Map(this.names.map((n) => [motors[n]!.id, n]));
  }

  get protocol(): 'feetech' | 'dynamixel' {
    return this.bus.protocol.name;
  }

  private reg(name: Common): R {
    return name as unknown as R;
  }

  /**
   * Opens the bus, checks every expected servo answers with the right model number, and
   * measures the USB adapter's latency (the bus sizes its timeouts from it; `latency.advice`
   * tells the operator to lower an FTDI latency timer when it is high).
   */
  async open(): Promise<void> {
    await this.bus.open();
    try {
      await this.verify();
      this.latency = await this.bus.measureLatency(this.ids);
    } catch (e) {
      await this.bus.close();
      throw e;
    }
  }

  /** The adapter latency measured at open. */
  latency: LatencyReport | undefined;

  async verify(): Promise<void> {
    const missing: string[] = [];
    const wrong: string[] = [];
    for (const name of this.names) {
      const m = this.motors[name]!;
      const model = await this.bus.tryPing(m.id, { numRetry: 2 });
      if (model === undefined) missing.push(`${name} (id ${m.id})`);
      else if (model !== m.modelNumber) wrong.push(`${name} (id ${m.id}) reports model ${model}, expected ${m.modelNumber} (${m.model})`);
    }
    if (missing.length || wrong.length) {
      const parts: string[] = [];
      if (missing.length) parts.push(`no answer from ${missing.join(', ')}`);
      if (wrong.length) parts.push(wrong.join('; '));
      throw new MotorCheckError(
        `Motor check failed on ${this.bus.transport.path}: ${parts.join('; ')}. Check the arm's power supply and daisy-chain cables, that this port is the right arm, that the arm type is right, and that each servo's ID was set up (IDs 1..${this.ids.length}, gripper last) at ${this.bus.transport.baudRate} baud.`,
        { missing, wrong },
      );
    }
  }

  /** Closes the bus; by default turns torque off on every servo first (see setTorque(false)). */
  async close(opts: { disableTorque?: boolean } = {}): Promise<void> {
    if (!this.bus.isOpen) return;
    try {
      if (opts.disableTorque ?? true) await this.setTorque(false, { numRetry: 5 });
    } finally {
      await this.bus.close();
    }
  }

  /**
   * Torque on: servo by servo, stopping at the first failure. Torque off: attempted on EVERY
   * servo whatever happens to the others (a faulted or silent servo must not leave the joints
   * after it stiff); servos that answer with fault bits are still switched off (their faults are
   * returned); servos that could not be switched off are reported together afterwards in one
   * TorqueOffError.
   */
  async setTorque(on: boolean, opts: { numRetry?: number; joints?: readonly string[] } = {}): Promise<MotorFault[]> {
    const numRetry = opts.numRetry ?? this.bus.numRetry;
    if (!on) {
      const faults: MotorFault[] = [];
      const failures: { id: number; joint: string; message: string }[] = [];
      for (const name of opts.joints ?? this.names) {
        const id = this.motors[name]!.id;
        try {
          faults.push(...(await this.bus.write(this.reg('Torque_Enable'), id, 0, { numRetry, faults: 'return' })));
        } catch (e) {
          failures.push({ id, joint: name, message: e instanceof Error ? e.message : String(e) });
          continue;
        }
        // Feetech: Lock=0 with torque off (LeRobot). Torque is already off: a failure here is not a torque failure.
        if (this.protocol === 'feetech') await this.bus.write('Lock' as R, id, 0, { numRetry, faults: 'return' }).catch(() => undefined);
      }
      if (failures.length) throw new TorqueOffError(failures, this.bus.transport.path);
      return dedupeFaults(faults);
    }
    for (const name of opts.joints ?? this.names) {
      const id = this.motors[name]!.id;
      await this.bus.write(this.reg('Torque_Enable'), id, on ? 1 : 0, { numRetry });
      // Feetech: Lock guards EEPROM; LeRobot pairs Lock=1 with torque on and Lock=0 with torque off.
      if (this.protocol === 'feetech') await this.bus.write('Lock' as R, id, on ? 1 : 0, { numRetry });
    }
    return [];
  }

  async readRaw(numRetry?: number): Promise<SyncReadResult> {
    return this.bus.syncRead(this.reg('Present_Position'), this.ids, numRetry === undefined ? {} : { numRetry });
  }

  faults(r: SyncReadResult): MotorFault[] {
    return this.bus.faultsOf(this.ids, r.errors, 'Present_Position');
  }

  requireCalibration(): Calibration {
    if (!this.calibration) throw new CalibrationError(`The arm on ${this.bus.transport.path} is not calibrated. Run calibration or import a calibration file first.`);
    return this.calibration;
  }

  /** Raw ticks → normalised values, ordered as names. */
  toNormalized(raw: readonly number[]): number[] {
    const cal = this.requireCalibration();
    const feetech = this.protocol === 'feetech';
    return this.names.map((n, i) => normalize(raw[i]!, cal[n]!, this.motors[n]!.norm, feetech));
  }

  toRaw(values: readonly number[]): number[] {
    const cal = this.requireCalibration();
    const feetech = this.protocol === 'feetech';
    return this.names.map((n, i) => unnormalize(values[i]!, cal[n]!, this.motors[n]!.norm, feetech));
  }

  /** Normalised [min, max] each joint accepts (calibrated range); undefined before calibration. */
  ranges(): { min: number; max: number }[] | undefined {
    const cal = this.calibration;
    if (!cal) return undefined;
    return this.names.map((n) => normalizedRange(cal[n]!, this.motors[n]!.norm));
  }

  /** Clamps normalised goals to the calibrated range (pure given the calibration). */
  clamp(values: readonly number[]): number[] {
    const r = this.ranges();
    if (!r) throw this.requireCalibration();
    return values.map((v, i) => (Number.isFinite(v) ? Math.min(Math.max(v, r[i]!.min), r[i]!.max) : NaN));
  }

  async writeGoalRaw(raw: readonly number[]): Promise<void> {
    await this.bus.syncWrite(
      this.reg('Goal_Position'),
      this.ids.map((id, i) => ({ id, value: raw[i]! })),
    );
  }

  // ---- calibration on the motors -------------------------------------------------------

  /** Writes homing offsets, position limits (and Dynamixel drive modes) to EEPROM, torque off. */
  async writeCalibration(cal: Calibration): Promise<void> {
    await this.setTorque(false);
    for (const n of this.names) {
      const c = cal[n]!;
      const id = this.motors[n]!.id;
      if (this.protocol === 'dynamixel') await this.bus.write('Drive_Mode' as R, id, c.drive_mode);
      await this.writeHoming(n, c.homing_offset);
      await this.bus.write(this.reg('Min_Position_Limit'), id, c.range_min);
      await this.bus.write(this.reg('Max_Position_Limit'), id, c.range_max);
    }
    this.calibration = structuredClone(cal);
  }

  async writeHoming(joint: string, offset: number): Promise<void> {
    try {
      await this.bus.write(this.reg('Homing_Offset'), this.motors[joint]!.id, offset);
    } catch (e) {
      if (e instanceof RangeError) {
        throw new CalibrationError(
          `Homing offset ${offset} for ${joint} (servo ${this.motors[joint]!.id}) is out of range: ${e.message}. The joint sits at the encoder's wrap point; move it towards the middle of its travel (power-cycle the arm if it keeps happening) and set the pose again.`,
          { joint, offset },
        );
      }
      throw e;
    }
  }

  async readCalibration(): Promise<Calibration> {
    const out: Calibration = {};
    for (const n of this.names) {
      const id = this.motors[n]!.id;
      out[n] = {
        id,
        drive_mode: this.protocol === 'dynamixel' ? await this.bus.read('Drive_Mode' as R, id) : 0,
        homing_offset: await this.bus.read(this.reg('Homing_Offset'), id),
        range_min: await this.bus.read(this.reg('Min_Position_Limit'), id),
        range_max: await this.bus.read(this.reg('Max_Position_Limit'), id),
      };
    }
    return out;
  }

  /** Homing offsets that make the current pose read mid-range (2047) on every joint. */
  homingFor(raw: readonly number[]): number[] {
    return raw.map((p) => halfTurnHoming(this.protocol, p));
  }

  // ---- health ----------------------------------------------------------------------------

  async readHealth(): Promise<HealthEntry[]> {
    const feetech = this.protocol === 'feetech';
    // One SYNC_READ of a register block each: Feetech 60..65 (load, voltage, temperature, -, status);
    // Dynamixel 126..146 is long, so read Hardware_Error_Status@70 and 144..146 (voltage, temperature).
    const out: HealthEntry[] = this.names.map((n) => ({ joint: n, id: this.motors[n]!.id, errorBits: [] }));
    if (feetech) {
      const frames = await this.bus.syncReadBlock(60, 6, this.ids);
      frames.forEach((f, i) => {
        const p = f.params;
        const loadRaw = p[0]! | (p[1]! << 8);
        const e = out[i]!;
        e.load = ((loadRaw & 0x400 ? -1 : 1) * (loadRaw & 0x3ff)) / 10; // % of max (0.1 % units, sign bit 10)
        e.voltageV = p[2]! / 10;
        e.temperatureC = p[3]!;
        e.errorBits = this.bus.protocol.errorBits(p[5]! | f.error);
      });
    } else {
      const v = await this.bus.syncReadBlock(144, 3, this.ids);
      const hw = await this.bus.syncReadBlock(70, 1, this.ids);
      const cur = await this.bus.syncReadBlock(126, 2, this.ids);
      const hwNames: Record<number, string> = { 0x01: 'input_voltage', 0x04: 'overheat', 0x08: 'motor_encoder', 0x10: 'electrical_shock', 0x20: 'overload' };
      this.ids.forEach((_, i) => {
        const e = out[i]!;
        e.voltageV = (v[i]!.params[0]! | (v[i]!.params[1]! << 8)) / 10;
        e.temperatureC = v[i]!.params[2]!;
        const c = cur[i]!.params[0]! | (cur[i]!.params[1]! << 8);
        e.load = c >= 0x8000 ? c - 0x10000 : c; // Present_Current, raw units (model-specific mA)
        const bits = hw[i]!.params[0]!;
        e.errorBits = Object.entries(hwNames)
          .filter(([m]) => (bits & Number(m)) !== 0)
          .map(([, name]) => name);
      });
    }
    return out;
  }

  /** Throws a MotorFaultError when any joint reports overload/overheat/voltage/encoder faults. */
  throwIfFaulted(r: SyncReadResult, context: string): void {
    const f = this.faults(r);
    if (f.length) throw new MotorFaultError(f, context);
  }
}
