/**
 * ServoFollower: a follower arm on a servo bus, implementing `Robot`. SO-100/SO-101 and Koch
 * are configurations of it (motor map, configure step, calibration spec).
 *
 * Safety (see also main/services/hardware.ts):
 * - Goals are clamped to the calibrated range of each joint (degrees / 0..100) before they
 *   are turned into ticks; `writeGoal` returns what was actually sent. An optional
 *   `maxRelativeTarget` caps each joint's step from the last read position.
 * - `holdPosition()` (what e-stop does) writes the present position as the goal and leaves
 *   torque ON: a position-controlled arm with torque off falls under gravity (SO-101's
 *   shoulder and elbow drop onto whatever is below), so holding is the stop that moves least.
 * - `disconnect()` turns torque OFF by default: once the console lets go nobody supervises
 *   the arm, and motors left holding keep resisting people and heating up (LeRobot does the
 *   same). Support the arm before disconnecting; pass {disableTorque:false} to keep it stiff.
 * - Enabling torque first writes the present position as the goal, so the arm doesn't jump
 *   to a stale goal left in the servo's RAM.
 * - A servo that reports overload / overheat / voltage faults makes readState() throw a
 *   MotorFaultError (code 'motor_fault') naming the servo and register: the loop holds and shows it.
 * - Fault bits already set at power-on do not block connect: torque is turned off on every servo,
 *   configuration goes on, the faults are listed in `connectFaults` / `warnings`, and torque stays
 *   OFF (even when calibrated) so the operator can see the fault, clear its cause and enable torque.
 */
import type { Robot, RobotHealthEntry, RobotJoint, RobotState } from '../Robot';
import type { MotorGroup } from '../../motors/MotorGroup';
import { DeviceAlreadyConnectedError, DeviceNotConnectedError } from '../../transport/errors';
import { CalibrationError, dedupeFaults, MotorFaultError, type MotorFault } from '../../motors/errors';
import { parseCalibration, type CalibrationFile } from '../calibration';
import { applyCalibrationToMotors } from '../applyCalibration';
import { CalibrationSession, type CalibrationSpec } from '../calibrationSession';

export interface ServoArmSpec<R extends string> {
  /** Robot type, e.g. 'so101_follower'. */
  type: string;
  /** LeRobot class name used for the calibration directory: 'so_follower', 'koch_follower', ... */
  calibrationName: string;
  group: MotorGroup<R>;
  calibrationSpec: CalibrationSpec;
  /** Runtime configuration written at connect (P/I/D, gripper limits...), torque off while it runs. */
  configure: (group: MotorGroup<R>) => Promise<void>;
}

export interface FollowerOptions {
  id: string;
  calibration?: CalibrationFile;
  /** Max change per writeGoal from the last read position, in normalised units (degrees / %). */
  maxRelativeTarget?: number;
}

export type CalibrationStatus = 'none' | 'matched' | 'written';

export class ServoFollower<R extends string> implements Robot {
  readonly type: string;
  readonly id: string;
  readonly calibrationName: string;
  readonly group: MotorGroup<R>;
  maxRelativeTarget: number | undefined;
  calibrationStatus: CalibrationStatus = 'none';
  /** Servos that reported faults while connecting (torque was left off). */
  connectFaults: MotorFault[] = [];
  private readonly spec: ServoArmSpec<R>;
  private pendingCalibration: CalibrationFile | undefined;
  private lastPositions: number[] | undefined;
  private connected = false;

  constructor(spec: ServoArmSpec<R>, opts: FollowerOptions) {
    this.spec = spec;
    this.type = spec.type;
    this.id = opts.id;
    this.calibrationName = spec.calibrationName;
    this.group = spec.group;
    this.maxRelativeTarget = opts.maxRelativeTarget;
    if (opts.calibration) this.pendingCalibration = parseCalibration(opts.calibration, this.jointIds(), 'calibration');
  }

  jointIds(): { name: string; id: number }[] {
    return this.group.names.map((n) => ({ name: n, id: this.group.motors[n]!.id }));
  }

  get joints(): readonly RobotJoint[] {
    const ranges = this.group.ranges();
    return this.group.names.map((name, i) => {
      const m = this.group.motors[name]!;
      const unit = m.norm === 'degrees' ? 'deg' : 'percent';
      const r = ranges?.[i] ?? (m.norm === 'degrees' ? { min: -180, max: 180 } : m.norm === 'range_0_100' ? { min: 0, max: 100 } : { min: -100, max: 100 });
      return { name, min: r.min, max: r.max, unit };
    });
  }

  get isConnected(): boolean {
    return this.connected && this.group.bus.isOpen;
  }

  get isCalibrated(): boolean {
    return this.group.calibration !== undefined;
  }

  async connect(): Promise<void> {
    if (this.connected) throw new DeviceAlreadyConnectedError(`${this.type} '${this.id}'`);
    await this.group.open();
    try {
      const { value: offFaults, faults: more } = await this.group.bus.collectFaults(async () => {
        const off = await this.group.setTorque(false);
        await this.spec.configure(this.group);
        if (this.pendingCalibration) await this.applyCalibration(this.pendingCalibration);
        return off;
      });
      const faults = [...offFaults, ...more];
      this.connectFaults = dedupeFaults(faults);
      this.connected = true;
      if (this.isCalibrated && this.connectFaults.length === 0) await this.setTorque(true);
    } catch (e) {
      await this.group.close({ disableTorque: true }).catch(() => undefined);
      throw e;
    }
  }

  /** Uses a calibration (e.g. from a file): written to EEPROM only if the motors differ. */
  async applyCalibration(cal: CalibrationFile): Promise<CalibrationStatus> {
    this.calibrationStatus = await applyCalibrationToMotors(this.group, cal, this.jointIds());
    this.pendingCalibration = undefined;
    return this.calibrationStatus;
  }

  /** Re-applies the runtime configuration (after calibration, which changes operating modes). Torque ends off. */
  async reconfigure(): Promise<void> {
    this.requireConnected();
    await this.group.setTorque(false);
    await this.spec.configure(this.group);
  }

  /** Starts calibration (torque goes off). The session's finish() applies it; then call setTorque(true). */
  calibrationSession(): CalibrationSession<R> {
    this.requireConnected();
    this.lastPositions = undefined;
    return new CalibrationSession(this.group, this.spec.calibrationSpec);
  }

  async readState(): Promise<RobotState> {
    this.requireConnected();
    const r = await this.group.readRaw();
    const timeMs = performance.now();
    const positions = this.group.toNormalized(r.values);
    this.lastPositions = positions;
    const faults = this.group.faults(r);
    if (faults.length) {
      const err = new MotorFaultError(faults, `${this.type} '${this.id}' reports a servo fault`);
      (err.details as Record<string, unknown>)['positions'] = positions;
      throw err;
    }
    return { positions, timeMs };
  }

  async writeGoal(goal: readonly number[]): Promise<number[]> {
    this.requireConnected();
    if (goal.length !== this.group.names.length) {
      throw new RangeError(`${this.type}: goal has ${goal.length} values, the arm has ${this.group.names.length} joints (${this.group.names.join(', ')})`);
    }
    let sent = this.group.clamp(goal);
    const last = this.lastPositions;
    sent = sent.map((v, i) => (Number.isFinite(v) ? v : (last?.[i] ?? NaN)));
    if (sent.some((v) => !Number.isFinite(v))) throw new RangeError(`${this.type}: goal has non-finite values and no present position to hold`);
    const cap = this.maxRelativeTarget;
    if (cap !== undefined && last) sent = sent.map((v, i) => Math.min(Math.max(v, last[i]! - cap), last[i]! + cap));
    await this.group.writeGoalRaw(this.group.toRaw(sent));
    return sent;
  }

  async setTorque(enabled: boolean): Promise<void> {
    this.requireConnected();
    if (enabled) {
      if (!this.isCalibrated) throw new CalibrationError(`${this.type} '${this.id}' is not calibrated: calibrate it (or import its calibration) before enabling torque.`);
      const r = await this.group.readRaw(5);
      await this.group.writeGoalRaw(r.values);
    }
    await this.group.setTorque(enabled);
  }

  /** E-stop: hold the present position; torque state is left as it is (see the module comment). */
  async holdPosition(): Promise<number[]> {
    this.requireConnected();
    const r = await this.group.readRaw(5);
    await this.group.writeGoalRaw(r.values);
    const held = this.isCalibrated ? this.group.toNormalized(r.values) : r.values;
    this.lastPositions = this.isCalibrated ? held : undefined;
    return held;
  }

  async readHealth(): Promise<RobotHealthEntry[]> {
    this.requireConnected();
    return this.group.readHealth();
  }

  async disconnect(opts: { disableTorque?: boolean } = {}): Promise<void> {
    if (!this.group.bus.isOpen) {
      this.connected = false;
      return;
    }
    this.connected = false;
    await this.group.close({ disableTorque: opts.disableTorque ?? true });
  }

  /** Operator-facing notes from connect: servo faults (torque left off) and a slow USB adapter. */
  get warnings(): string[] {
    return servoWarnings(this.group, this.connectFaults, `${this.type} '${this.id}'`);
  }

  private requireConnected(): void {
    if (!this.isConnected) throw new DeviceNotConnectedError(`${this.type} '${this.id}'`);
  }
}

/** Warnings shared by followers and leaders. */
export function servoWarnings<R extends string>(group: MotorGroup<R>, faults: readonly MotorFault[], who: string): string[] {
  const out: string[] = [];
  if (faults.length) {
    out.push(
      `${who}: torque left off because servos report faults at connect — ${new MotorFaultError(faults, 'faults').message.replace(/^faults: /, '')} Clear the cause (free the joint, let it cool, check the supply), power-cycle the arm if the fault stays, then enable torque.`,
    );
  }
  const adv = group.latency?.advice;
  if (adv) out.push(adv);
  return out;
}
