/**
 * Replays a recorded episode's actions through the loop as if a policy sent them, one per tick.
 * The arbiter and the safety clamp apply as for any policy: the operator can take over, the
 * e-stop wins. The replay first approaches the episode's first action slowly (`approachDegPerS`,
 * gripper `approachPctPerS`) from wherever the arm is, so a start pose 70° away is reached in a few
 * seconds instead of at the clamp's speed; then it plays the recorded actions at the loop's rate.
 */
import type { Observation, PolicyOutput, PolicyRunner } from '../control/types';

export interface ReplayOptions {
  /** Loop rate: the approach speed is per second. */
  rateHz: number;
  /** Index of the gripper joint (moved at `approachPctPerS`); -1 for none. */
  gripperIndex?: number;
  approachDegPerS?: number;
  approachPctPerS?: number;
}

export type ReplayPhase = 'approach' | 'replay' | 'done';

export class ReplayRunner implements PolicyRunner {
  readonly name: string;
  private i = 0;
  private approachGoal: number[] | undefined;
  private phaseNow: ReplayPhase = 'approach';
  private readonly stepDeg: number;
  private readonly stepPct: number;
  private readonly gripper: number;
  constructor(
    private readonly actions: readonly number[][],
    readonly episodeIndex: number,
    opts: ReplayOptions = { rateHz: 30 },
  ) {
    this.name = `replay of episode ${episodeIndex}`;
    this.stepDeg = (opts.approachDegPerS ?? 20) / opts.rateHz;
    this.stepPct = (opts.approachPctPerS ?? 40) / opts.rateHz;
    this.gripper = opts.gripperIndex ?? -1;
    if (actions.length === 0) this.phaseNow = 'done';
  }

  get phase(): ReplayPhase {
    return this.phaseNow;
  }
  /** Recorded frames played so far, of `frames`. */
  get played(): number {
    return Math.min(this.i, this.actions.length);
  }
  get frames(): number {
    return this.actions.length;
  }

  step(obs: Observation): PolicyOutput | undefined {
    const first = this.actions[0];
    if (first === undefined) return undefined;
    if (this.phaseNow === 'approach') {
      const from = this.approachGoal ?? [...obs.state];
      let arrived = true;
      const goal = from.map((v, j) => {
        const target = first[j] ?? v;
        const lim = j === this.gripper ? this.stepPct : this.stepDeg;
        const d = Math.max(-lim, Math.min(lim, target - v));
        if (Math.abs(target - v) > lim) arrived = false;
        return v + d;
      });
      this.approachGoal = goal;
      if (arrived) this.phaseNow = 'replay';
      return { goal };
    }
    const a = this.actions[Math.min(this.i, this.actions.length - 1)]!;
    this.i++;
    if (this.i >= this.actions.length) this.phaseNow = 'done';
    return { goal: [...a] }; // past the end it holds the last action
  }
  reset(): void {
    // After a takeover the replay continues where it was (the recorded timeline is fixed); an
    // approach not yet finished starts again from wherever the operator left the arm.
    this.approachGoal = undefined;
  }
  async stop(): Promise<void> {}
}

/**
 * Maps recorded actions (named joints, e.g. 'shoulder_pan.pos') onto the robot's joint order.
 * Returns an error message when a robot joint has no recorded column.
 */
export function mapActions(recordedNames: readonly string[], robotJoints: readonly string[], actions: readonly number[][]): number[][] | string {
  const clean = recordedNames.map((n) => n.replace(/\.pos$/, ''));
  const idx = robotJoints.map((j) => clean.indexOf(j));
  const missing = robotJoints.filter((_, k) => idx[k]! < 0);
  if (missing.length) return `The episode has no recorded action for ${missing.join(', ')}; it was recorded with joints ${clean.join(', ')}.`;
  return actions.map((row) => idx.map((k) => row[k]!));
}
