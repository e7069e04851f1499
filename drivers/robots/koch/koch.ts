/**
 * Koch v1.1 arms (Dynamixel X-series): motor maps, runtime configuration, calibration spec,
 * factories. Facts: shared/specs/lerobot.md §2.3, §3.3, §3.4.
 *
 * Units: LeRobot's Koch default is -100..100 for body joints; Reins' Robot contract is degrees,
 * so body joints use LeRobot's DEGREES mode (its use_degrees=True), gripper 0..100, on both
 * follower and leader so leader positions are follower goals as they are.
 */
import type { Transport } from '../../transport/Transport';
import { DynamixelMotorBus } from '../../motors/dynamixel/bus';
import { DXL_MODEL_NUMBER, DXL_OPERATING_MODE, type DynamixelModel, type XRegister } from '../../motors/dynamixel/tables';
import { MotorGroup, type MotorDef } from '../../motors/MotorGroup';
import type { ServoBusOptions } from '../../motors/ServoBus';
import type { CalibrationFile } from '../calibration';
import type { CalibrationSpec } from '../calibrationSession';
import { ServoFollower } from '../so101/ServoFollower';
import { ServoLeader } from '../so101/ServoLeader';

export const KOCH_JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'] as const;

const motor = (id: number, model: DynamixelModel, norm: MotorDef['norm']): MotorDef => ({ id, model, modelNumber: DXL_MODEL_NUMBER[model], norm });

export function kochFollowerMotors(): Record<string, MotorDef> {
  return {
    shoulder_pan: motor(1, 'xl430-w250', 'degrees'),
    shoulder_lift: motor(2, 'xl430-w250', 'degrees'),
    elbow_flex: motor(3, 'xl330-m288', 'degrees'),
    wrist_flex: motor(4, 'xl330-m288', 'degrees'),
    wrist_roll: motor(5, 'xl330-m288', 'degrees'),
    gripper: motor(6, 'xl330-m288', 'range_0_100'),
  };
}

export function kochLeaderMotors(): Record<string, MotorDef> {
  return Object.fromEntries(KOCH_JOINTS.map((n, i) => [n, motor(i + 1, 'xl330-m077', n === 'gripper' ? 'range_0_100' : 'degrees')]));
}

export const KOCH_FOLLOWER_CALIBRATION_SPEC: CalibrationSpec = { fullTurn: ['shoulder_pan', 'wrist_roll'], operatingMode: DXL_OPERATING_MODE.extended_position };
/** The leader's elbow is mounted reversed: Drive_Mode 1 inverts it in hardware. */
export const KOCH_LEADER_CALIBRATION_SPEC: CalibrationSpec = {
  fullTurn: ['shoulder_pan', 'wrist_roll'],
  operatingMode: DXL_OPERATING_MODE.extended_position,
  driveModes: { elbow_flex: 1 },
};

async function configureModes(g: MotorGroup<XRegister>): Promise<void> {
  for (const n of g.names) {
    const id = g.motors[n]!.id;
    await g.bus.write('Return_Delay_Time', id, 0);
    // Extended position lets joints pass the 0/4095 wrap without a jump; the gripper uses
    // current-based position so it can't crush what it holds (LeRobot koch configure()).
    await g.bus.write('Operating_Mode', id, n === 'gripper' ? DXL_OPERATING_MODE.current_based_position : DXL_OPERATING_MODE.extended_position);
  }
}

export async function configureKochFollower(g: MotorGroup<XRegister>): Promise<void> {
  await configureModes(g);
  const elbow = g.motors['elbow_flex']!.id;
  // The elbow carries the forearm: stiffer P and more D than the factory gains (LeRobot values).
  await g.bus.write('Position_P_Gain', elbow, 1500);
  await g.bus.write('Position_I_Gain', elbow, 0);
  await g.bus.write('Position_D_Gain', elbow, 600);
}

/** Gripper open position (0..100) the leader's gripper springs back to, like a trigger. */
export const KOCH_LEADER_GRIPPER_OPEN = 50;

export async function configureKochLeader(g: MotorGroup<XRegister>): Promise<void> {
  await configureModes(g);
  if (g.calibration) {
    const gi = g.names.indexOf('gripper');
    const raw = (await g.readRaw(5)).values;
    const goal = g.toRaw(g.names.map((_, i) => (i === gi ? KOCH_LEADER_GRIPPER_OPEN : 0)))[gi]!;
    raw[gi] = goal;
    await g.bus.write('Goal_Position', g.motors['gripper']!.id, goal);
    await g.setTorque(true, { joints: ['gripper'] });
  }
}

export interface KochArmOptions {
  id: string;
  transport: Transport;
  calibration?: CalibrationFile;
  bus?: ServoBusOptions;
  maxRelativeTarget?: number;
}

export function createKochFollower(opts: KochArmOptions): ServoFollower<XRegister> {
  const group = new MotorGroup(new DynamixelMotorBus(opts.transport, { numRetry: 2, ...opts.bus }), kochFollowerMotors());
  return new ServoFollower(
    { type: 'koch_follower', calibrationName: 'koch_follower', group, calibrationSpec: KOCH_FOLLOWER_CALIBRATION_SPEC, configure: configureKochFollower },
    { id: opts.id, ...(opts.calibration ? { calibration: opts.calibration } : {}), ...(opts.maxRelativeTarget !== undefined ? { maxRelativeTarget: opts.maxRelativeTarget } : {}) },
  );
}

export function createKochLeader(opts: KochArmOptions): ServoLeader<XRegister> {
  const group = new MotorGroup(new DynamixelMotorBus(opts.transport, { numRetry: 2, ...opts.bus }), kochLeaderMotors());
  return new ServoLeader(
    { type: 'koch_leader', calibrationName: 'koch_leader', group, calibrationSpec: KOCH_LEADER_CALIBRATION_SPEC, configure: configureKochLeader },
    { id: opts.id, ...(opts.calibration ? { calibration: opts.calibration } : {}) },
  );
}
