/**
 * Calibration as steps a UI drives (LeRobot's procedure, shared/specs/lerobot.md §3.2–3.3,
 * without `input()` inside the driver):
 *
 *   begin()      torque off, calibration operating mode, drive modes, reset offsets/limits
 *   setHoming()  operator posed every joint at mid-range → homing offsets so each reads 2047
 *   sample()     call repeatedly (e.g. every 20 ms) while the operator sweeps every joint;
 *                returns the live min / position / max table
 *   finish()     full-turn joints get 0..4095; writes offsets + limits to EEPROM; returns the
 *                calibration (LeRobot's JSON fields), which the caller saves
 */
import { CalibrationError } from '../motors/errors';
import type { MotorGroup } from '../motors/MotorGroup';
import type { CalibrationFile } from './calibration';

export interface CalibrationSpec {
  /** Joints that turn fully (range forced to 0..4095, not swept): wrist_roll; Koch also shoulder_pan. */
  fullTurn: readonly string[];
  /** Operating mode while calibrating (Feetech: 0 position; Koch: 4 extended position). */
  operatingMode: number;
  /** Dynamixel Drive_Mode per joint (Koch leader elbow_flex: 1, inverted). */
  driveModes?: Readonly<Record<string, number>>;
  /** A swept joint must have moved at least this many ticks (default 20 ≈ 1.8°). */
  minSweepTicks?: number;
}

export type CalibrationStep = 'idle' | 'pose_mid' | 'sweep' | 'done';

export interface LiveRange {
  joint: string;
  id: number;
  min: number;
  position: number;
  max: number;
  fullTurn: boolean;
}

export const CALIBRATION_INSTRUCTIONS: Record<Exclude<CalibrationStep, 'idle'>, string> = {
  pose_mid: 'Torque is off. Move every joint to the middle of its range of motion, then continue.',
  sweep: 'Move every joint except the full-turn ones through its entire range of motion, then finish.',
  done: 'Calibration written to the motors.',
};

export class CalibrationSession<R extends string> {
  private _step: CalibrationStep = 'idle';
  private ranges = new Map<string, { min: number; max: number; pos: number }>();
  private homing = new Map<string, number>();

  constructor(
    private readonly group: MotorGroup<R>,
    private readonly spec: CalibrationSpec,
  ) {}

  get step(): CalibrationStep {
    return this._step;
  }

  async begin(): Promise<{ step: 'pose_mid'; instructions: string }> {
    const g = this.group;
    await g.setTorque(false);
    for (const n of g.names) {
      const id = g.motors[n]!.id;
      await g.bus.write('Operating_Mode' as R, id, this.spec.operatingMode);
      if (g.protocol === 'dynamixel') await g.bus.write('Drive_Mode' as R, id, this.spec.driveModes?.[n] ?? 0);
      await g.bus.write('Homing_Offset' as R, id, 0);
      await g.bus.write('Min_Position_Limit' as R, id, 0);
      await g.bus.write('Max_Position_Limit' as R, id, 4095);
    }
    g.calibration = undefined;
    this._step = 'pose_mid';
    return { step: 'pose_mid', instructions: CALIBRATION_INSTRUCTIONS.pose_mid };
  }

  /** The arm is posed at mid-range: write homing offsets. Returns them per joint. */
  async setHoming(): Promise<Record<string, number>> {
    this.expect('pose_mid');
    const g = this.group;
    const raw = (await g.readRaw(5)).values;
    const offsets = g.homingFor(raw);
    const out: Record<string, number> = {};
    for (let i = 0; i < g.names.length; i++) {
      const n = g.names[i]!;
      await g.writeHoming(n, offsets[i]!);
      this.homing.set(n, offsets[i]!);
      out[n] = offsets[i]!;
    }
    const now = (await g.readRaw(5)).values;
    this.ranges = new Map(g.names.map((n, i) => [n, { min: now[i]!, max: now[i]!, pos: now[i]! }]));
    this._step = 'sweep';
    return out;
  }

  /** One range sample while the operator sweeps the joints. */
  async sample(): Promise<LiveRange[]> {
    this.expect('sweep');
    const g = this.group;
    const raw = (await g.readRaw(5)).values;
    return g.names.map((n, i) => {
      const r = this.ranges.get(n)!;
      const p = raw[i]!;
      r.pos = p;
      r.min = Math.min(r.min, p);
      r.max = Math.max(r.max, p);
      return { joint: n, id: g.motors[n]!.id, min: r.min, position: p, max: r.max, fullTurn: this.spec.fullTurn.includes(n) };
    });
  }

  liveRanges(): LiveRange[] {
    const g = this.group;
    return g.names.map((n) => {
      const r = this.ranges.get(n) ?? { min: 0, max: 0, pos: 0 };
      return { joint: n, id: g.motors[n]!.id, min: r.min, position: r.pos, max: r.max, fullTurn: this.spec.fullTurn.includes(n) };
    });
  }

  async finish(): Promise<CalibrationFile> {
    this.expect('sweep');
    const g = this.group;
    const minSweep = this.spec.minSweepTicks ?? 20;
    const unmoved = g.names.filter((n) => !this.spec.fullTurn.includes(n) && this.ranges.get(n)!.max - this.ranges.get(n)!.min < minSweep);
    if (unmoved.length) {
      throw new CalibrationError(
        `These joints were not swept through their range: ${unmoved.map((n) => `${n} (servo ${g.motors[n]!.id})`).join(', ')}. Move each of them from one end stop to the other, then finish again.`,
        { unmoved },
      );
    }
    const cal: CalibrationFile = {};
    for (const n of g.names) {
      const full = this.spec.fullTurn.includes(n);
      const r = this.ranges.get(n)!;
      cal[n] = {
        id: g.motors[n]!.id,
        drive_mode: g.protocol === 'dynamixel' ? (this.spec.driveModes?.[n] ?? 0) : 0,
        homing_offset: this.homing.get(n)!,
        range_min: full ? 0 : r.min,
        range_max: full ? 4095 : r.max,
      };
    }
    await g.writeCalibration(cal);
    this._step = 'done';
    return cal;
  }

  private expect(step: CalibrationStep): void {
    if (this._step !== step) {
      throw new CalibrationError(`Calibration step out of order: expected '${step}', the session is at '${this._step}'. Start again with begin().`, { step: this._step });
    }
  }
}
