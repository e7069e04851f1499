/** Small fakes shared by loop tests: a manual clock and an in-memory robot with servo-like lag. */
import type { Robot, RobotJoint, RobotState } from '../../drivers/robots/Robot';
import type { Clock } from '../../main/control/types';

export class ManualClock implements Clock {
  constructor(public t = 0) {}
  nowMs(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export class FakeRobot implements Robot {
  readonly type = 'fake';
  readonly id = 'fake-1';
  isConnected = true;
  positions: number[];
  writes: number[][] = [];
  stateAgeMs = 0;
  constructor(
    readonly joints: RobotJoint[],
    private readonly clock: Clock,
  ) {
    this.positions = joints.map((j) => (j.min + j.max) / 2);
  }
  async connect(): Promise<void> {}
  async readState(): Promise<RobotState> {
    return { positions: [...this.positions], timeMs: this.clock.nowMs() - this.stateAgeMs };
  }
  async writeGoal(goal: readonly number[]): Promise<number[]> {
    this.writes.push([...goal]);
    this.positions = [...goal]; // an ideal servo
    return [...goal];
  }
  async setTorque(): Promise<void> {}
  async disconnect(): Promise<void> {
    this.isConnected = false;
  }
}

export const SIX_JOINTS: RobotJoint[] = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'].map((name) => ({
  name,
  min: name === 'gripper' ? 0 : -100,
  max: 100,
  unit: name === 'gripper' ? 'percent' : 'deg',
}));
