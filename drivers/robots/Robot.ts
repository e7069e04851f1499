/**
 * The Robot contract: every arm (simulated, SO-100/SO-101, Koch) implements it.
 * Positions are ordered as `joints`; body joints in degrees, gripper 0..100 (open..closed).
 */
export interface RobotJoint {
  name: string;
  min: number; // lowest goal the arm accepts (calibrated range or sim limit)
  max: number;
  unit: 'deg' | 'percent';
  /** The servo's top speed (units/s), when known: the loop bounds how far a goal may lead the arm from it. */
  maxSpeed?: number;
}

export interface RobotState {
  positions: number[];
  /** Monotonic time (ms) the positions were read. */
  timeMs: number;
}

export interface RobotHealthEntry {
  joint: string;
  id: number;
  temperatureC?: number;
  voltageV?: number;
  load?: number;
  errorBits: string[];
}

export interface Robot {
  readonly type: string; // 'sim_so101', 'so101_follower', 'koch_follower', ...
  readonly id: string;
  /** Available before connect. */
  readonly joints: readonly RobotJoint[];
  readonly isConnected: boolean;
  connect(): Promise<void>;
  readState(): Promise<RobotState>;
  /** Writes goal positions; returns the goal actually sent (possibly clipped to the range). */
  writeGoal(goal: readonly number[]): Promise<number[]>;
  setTorque(enabled: boolean): Promise<void>;
  /** Torque is disabled by default so an arm left connected doesn't keep resisting. */
  disconnect(opts?: { disableTorque?: boolean }): Promise<void>;
  /** Optional capability: per-servo health (real arms). */
  readHealth?(): Promise<RobotHealthEntry[]>;
}
