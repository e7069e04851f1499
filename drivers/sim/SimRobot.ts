/**
 * The simulated SO-101 behind the Robot contract. The world advances to the injected clock's "now"
 * on every read and write (in sub-steps of at most 10 ms), so the arm moves in real (or fake) time.
 */
import type { Robot, RobotJoint, RobotState } from '../robots/Robot';
import { SO101_LIMITS, clampToLimits } from './kinematics';
import { MAX_SPEED, type SimWorld } from './world';

const MAX_STEP_MS = 10;
/** A longer gap than this (a paused debugger, a suspended laptop) is not simulated in one go. */
const MAX_CATCH_UP_MS = 1000;

export interface SimRobotOptions {
  id?: string;
}

export class SimRobot implements Robot {
  readonly type = 'sim_so101';
  readonly id: string;
  readonly joints: readonly RobotJoint[] = SO101_LIMITS.map((l, i) => ({ name: l.name, min: l.min, max: l.max, unit: l.unit, maxSpeed: MAX_SPEED[i]! }));
  private connected = false;
  private torque = true;
  private lastMs = 0;

  constructor(
    readonly world: SimWorld,
    private readonly clock: () => number,
    opts: SimRobotOptions = {},
  ) {
    this.id = opts.id ?? 'sim';
  }

  get isConnected(): boolean {
    return this.connected;
  }

  get torqueEnabled(): boolean {
    return this.torque;
  }

  async connect(): Promise<void> {
    this.lastMs = this.clock();
    this.connected = true;
    this.torque = true;
    this.world.setGoal(this.world.getPositions());
  }

  /** Steps the world from the last sync to now. */
  private sync(): number {
    const now = this.clock();
    let dt = Math.min(MAX_CATCH_UP_MS, now - this.lastMs);
    this.lastMs = now;
    while (dt > 1e-9) {
      const h = Math.min(MAX_STEP_MS, dt);
      this.world.step(h);
      dt -= h;
    }
    return now;
  }

  private ensureConnected(): void {
    if (!this.connected) throw new Error(`sim_so101 '${this.id}': not connected`);
  }

  async readState(): Promise<RobotState> {
    this.ensureConnected();
    const now = this.sync();
    return { positions: this.world.getPositions(), timeMs: now };
  }

  /** Clips to the limits; with torque off the goal is returned but not applied (the arm stays put). */
  async writeGoal(goal: readonly number[]): Promise<number[]> {
    this.ensureConnected();
    if (goal.length !== this.joints.length) throw new Error(`sim_so101: goal has ${goal.length} values, expected ${this.joints.length}`);
    this.sync();
    const sent = clampToLimits(goal);
    if (this.torque) this.world.setGoal(sent);
    return sent;
  }

  async setTorque(enabled: boolean): Promise<void> {
    this.ensureConnected();
    this.sync();
    this.torque = enabled;
    // either way the arm holds where it is: off = limp (no goal), on = a servo re-enabled holds its present position
    this.world.setGoal(this.world.getPositions());
  }

  async disconnect(opts: { disableTorque?: boolean } = {}): Promise<void> {
    if (!this.connected) return;
    this.sync();
    if (opts.disableTorque ?? true) {
      this.torque = false;
      this.world.setGoal(this.world.getPositions());
    }
    this.connected = false;
  }
}
