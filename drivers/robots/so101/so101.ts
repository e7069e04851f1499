/**
 * SO-100 / SO-101 arms (Feetech STS3215 ×6): motor map, runtime configuration, calibration
 * spec, and factories for the follower (a Robot) and the leader (a LeaderArm).
 * Facts: shared/specs/lerobot.md §1.8, §3.2, §3.4.
 */
import type { Transport } from '../../transport/Transport';
import { FeetechMotorBus } from '../../motors/feetech/bus';
import { FEETECH_MODEL_NUMBER, type StsRegister } from '../../motors/feetech/tables';
import { MotorGroup, type MotorDef } from '../../motors/MotorGroup';
import type { ServoBusOptions } from '../../motors/ServoBus';
import type { CalibrationFile } from '../calibration';
import type { CalibrationSpec } from '../calibrationSession';
import { ServoFollower } from './ServoFollower';
import { ServoLeader } from './ServoLeader';

export const SO_JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'] as const;
export type SoJoint = (typeof SO_JOINTS)[number];

export type SoFollowerType = 'so100_follower' | 'so101_follower';
export type SoLeaderType = 'so100_leader' | 'so101_leader';

export function soMotors(): Record<SoJoint, MotorDef> {
  const m = (id: number, norm: MotorDef['norm']): MotorDef => ({ id, model: 'sts3215', modelNumber: FEETECH_MODEL_NUMBER.sts3215, norm });
  // Body joints in degrees (LeRobot's SO default since v0.4.4), gripper 0..100.
  return {
    shoulder_pan: m(1, 'degrees'),
    shoulder_lift: m(2, 'degrees'),
    elbow_flex: m(3, 'degrees'),
    wrist_flex: m(4, 'degrees'),
    wrist_roll: m(5, 'degrees'),
    gripper: m(6, 'range_0_100'),
  };
}

export const SO_CALIBRATION_SPEC: CalibrationSpec = { fullTurn: ['wrist_roll'], operatingMode: 0 };

/** Settings LeRobot writes on every connect (configure_motors), torque off. */
async function configureFeetechBase(g: MotorGroup<StsRegister>): Promise<void> {
  for (const id of g.ids) {
    // Reply as fast as possible (the factory value delays every reply; LeRobot writes 0).
    await g.bus.write('Return_Delay_Time', id, 0);
    await g.bus.write('Maximum_Acceleration', id, 254);
    await g.bus.write('Acceleration', id, 254);
    // Phase bit 4 set lets position run multi-turn (negative/overflowing reads, LeRobot #3373).
    const phase = await g.bus.read('Phase', id);
    if (phase & 0x10) await g.bus.write('Phase', id, phase & ~0x10);
    await g.bus.write('Operating_Mode', id, 0);
  }
}

export async function configureSoFollower(g: MotorGroup<StsRegister>): Promise<void> {
  await configureFeetechBase(g);
  for (const id of g.ids) {
    // LeRobot's follower gains: lower P than the factory 32 to avoid shakiness.
    await g.bus.write('P_Coefficient', id, 16);
    await g.bus.write('I_Coefficient', id, 0);
    await g.bus.write('D_Coefficient', id, 32);
  }
  const gripper = g.motors['gripper']!.id;
  // 50 % of max torque and a current limit so a gripper squeezing an object doesn't burn out.
  await g.bus.write('Max_Torque_Limit', gripper, 500);
  await g.bus.write('Protection_Current', gripper, 250);
  await g.bus.write('Overload_Torque', gripper, 25);
}

export async function configureSoLeader(g: MotorGroup<StsRegister>): Promise<void> {
  await configureFeetechBase(g);
}

export interface SoArmOptions {
  id: string;
  transport: Transport;
  calibration?: CalibrationFile;
  bus?: ServoBusOptions;
  maxRelativeTarget?: number;
}

export function createSoFollower(type: SoFollowerType, opts: SoArmOptions): ServoFollower<StsRegister> {
  // SO buses occasionally return a corrupted status packet when several joints move: 2 read retries (LeRobot #4207).
  const group = new MotorGroup(new FeetechMotorBus(opts.transport, { numRetry: 2, ...opts.bus }), soMotors());
  return new ServoFollower(
    { type, calibrationName: 'so_follower', group, calibrationSpec: SO_CALIBRATION_SPEC, configure: configureSoFollower },
    { id: opts.id, ...(opts.calibration ? { calibration: opts.calibration } : {}), ...(opts.maxRelativeTarget !== undefined ? { maxRelativeTarget: opts.maxRelativeTarget } : {}) },
  );
}

export function createSoLeader(type: SoLeaderType, opts: SoArmOptions): ServoLeader<StsRegister> {
  const group = new MotorGroup(new FeetechMotorBus(opts.transport, { numRetry: 2, ...opts.bus }), soMotors());
  return new ServoLeader(
    { type, calibrationName: 'so_leader', group, calibrationSpec: SO_CALIBRATION_SPEC, configure: configureSoLeader },
    { id: opts.id, ...(opts.calibration ? { calibration: opts.calibration } : {}) },
  );
}
