/**
 * ServoLeader: a leader arm (the operator moves it by hand; torque off except where a
 * configuration says otherwise). Reads normalised positions with the same units as the
 * follower (degrees for body joints, 0..100 for the gripper) so they can be sent as goals.
 */
import type { MotorGroup } from '../../motors/MotorGroup';
import { DeviceAlreadyConnectedError, DeviceNotConnectedError } from '../../transport/errors';
import { parseCalibration, type CalibrationFile } from '../calibration';
import { applyCalibrationToMotors } from '../applyCalibration';
import { CalibrationSession } from '../calibrationSession';
import { servoWarnings, type ServoArmSpec, type CalibrationStatus } from './ServoFollower';
import { dedupeFaults, type MotorFault } from '../../motors/errors';

export interface LeaderArm {
  readonly type: string;
  readonly id: string;
  readonly jointNames: readonly string[];
  readonly isConnected: boolean;
  readonly isCalibrated: boolean;
  connect(): Promise<void>;
  readPositions(): Promise<number[]>;
  disconnect(): Promise<void>;
}

export class ServoLeader<R extends string> implements LeaderArm {
  readonly type: string;
  readonly id: string;
  readonly calibrationName: string;
  readonly group: MotorGroup<R>;
  calibrationStatus: CalibrationStatus = 'none';
  /** Servos that reported faults while connecting. */
  connectFaults: MotorFault[] = [];
  private readonly spec: ServoArmSpec<R>;
  private pendingCalibration: CalibrationFile | undefined;
  private connected = false;

  constructor(spec: ServoArmSpec<R>, opts: { id: string; calibration?: CalibrationFile }) {
    this.spec = spec;
    this.type = spec.type;
    this.id = opts.id;
    this.calibrationName = spec.calibrationName;
    this.group = spec.group;
    if (opts.calibration) this.pendingCalibration = parseCalibration(opts.calibration, this.jointIds(), 'leader calibration');
  }

  get jointNames(): readonly string[] {
    return this.group.names;
  }
  jointIds(): { name: string; id: number }[] {
    return this.group.names.map((n) => ({ name: n, id: this.group.motors[n]!.id }));
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
        if (this.pendingCalibration) await this.applyCalibration(this.pendingCalibration);
        await this.spec.configure(this.group);
        return off;
      });
      const faults = [...offFaults, ...more];
      this.connectFaults = dedupeFaults(faults);
      this.connected = true;
    } catch (e) {
      await this.group.close({ disableTorque: true }).catch(() => undefined);
      throw e;
    }
  }

  async applyCalibration(cal: CalibrationFile): Promise<CalibrationStatus> {
    this.calibrationStatus = await applyCalibrationToMotors(this.group, cal, this.jointIds());
    this.pendingCalibration = undefined;
    return this.calibrationStatus;
  }

  calibrationSession(): CalibrationSession<R> {
    if (!this.isConnected) throw new DeviceNotConnectedError(`${this.type} '${this.id}'`);
    return new CalibrationSession(this.group, this.spec.calibrationSpec);
  }

  /** Re-applies the runtime configuration (after calibration, which changes operating modes). */
  async configure(): Promise<void> {
    await this.group.setTorque(false);
    await this.spec.configure(this.group);
  }

  /** Operator-facing notes from connect: servo faults and a slow USB adapter. */
  get warnings(): string[] {
    return servoWarnings(this.group, this.connectFaults, `${this.type} '${this.id}'`);
  }

  async readPositions(): Promise<number[]> {
    if (!this.isConnected) throw new DeviceNotConnectedError(`${this.type} '${this.id}'`);
    const r = await this.group.readRaw();
    return this.group.toNormalized(r.values);
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.group.close({ disableTorque: true });
  }
}
