/**
 * What the console draws of a policy's intent: the gripper tip's path along queued goals, through
 * the simulated arm's forward kinematics, projected with the front camera's model (the same
 * projection the simulator renders with), and the PolicyRunner tap that lets the session see the
 * policy's own goal for a tick even when the arbiter gave the tick to the operator (shadow mode).
 */
import { FRONT_CAMERA, projectPoint, type CameraModel } from '../../drivers/sim/render';
import { forwardKinematics } from '../../drivers/sim/kinematics';
import type { Observation, PolicyOutput, PolicyRunner } from '../control/types';

/**
 * The tip of each goal (SO-101 joint order, degrees / gripper %) in a `width`×`height` frame of the
 * camera, as 0..1 of the frame (x right, y down), or null where the point is behind the camera.
 * projectPoint's focal length follows the frame height, so the frame's aspect matters.
 */
export function projectTipPath(goals: readonly (readonly number[])[], width: number, height: number, cam: CameraModel = FRONT_CAMERA): ([number, number] | null)[] {
  return goals.map((q) => {
    const p = projectPoint(cam, forwardKinematics(q).tip, width, height);
    return p === null ? null : [p[0] / width, p[1] / height];
  });
}

/** Wraps the loop's policy and remembers what it asked for on the last tick (the loop discards it when the operator drives). */
export class TappedRunner implements PolicyRunner {
  last: { tick: number; goal: number[] } | undefined;
  /** Observation time of the policy's last action (undefined before its first). */
  lastActionMs: number | undefined;
  /** Observation time of the first tick this runner was asked. */
  firstAskedMs: number | undefined;
  private n = 0;
  constructor(readonly inner: PolicyRunner) {}
  get name(): string {
    return this.inner.name;
  }
  step(obs: Observation): PolicyOutput | undefined {
    const out = this.inner.step(obs);
    const tick = this.n++;
    this.firstAskedMs ??= obs.timeMs;
    this.last = out ? { tick, goal: out.goal } : undefined;
    if (out) this.lastActionMs = obs.timeMs;
    return out;
  }
  /** Ticks this runner has been asked (the tick `last` belongs to is `ticks - 1` when fresh). */
  get ticks(): number {
    return this.n;
  }
  reset(): void {
    this.last = undefined;
    this.lastActionMs = undefined;
    this.firstAskedMs = undefined;
    this.inner.reset();
  }
  stop(): Promise<void> {
    return this.inner.stop();
  }
}
