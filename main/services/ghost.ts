/**
 * What the console draws of a policy's intent: the gripper tip's path along queued goals, through
 * the SO-101 forward kinematics (drivers/sim/kinematics.ts), projected with a pinhole camera: the
 * simulator's front camera (its model turned into pinhole form) or a host camera's calibration
 * (`--camera-calib`); one projection, `projectPinhole`, for both. And the PolicyRunner tap that lets
 * the session see the policy's own goal for a tick even when the arbiter gave the tick to the
 * operator (shadow mode).
 */
import { FRONT_CAMERA, type CameraModel } from '../../drivers/sim/render';
import { forwardKinematics } from '../../drivers/sim/kinematics';
import type { Observation, PolicyOutput, PolicyRunner } from '../control/types';
import { pinholeFromSim, projectPinhole, type CameraCalibration } from './cameraCalib';

/**
 * The tip of each goal (SO-101 joint order, degrees / gripper %) in a `width`×`height` frame of the
 * camera, as 0..1 of the frame (x right, y down), or null where the point is behind the camera.
 * `cam`: a simulator camera model (its focal length follows the frame height, so the frame's
 * aspect matters) or a pinhole calibration (scaled to the frame when its size differs).
 */
export function projectTipPath(goals: readonly (readonly number[])[], width: number, height: number, cam: CameraModel | CameraCalibration = FRONT_CAMERA): ([number, number] | null)[] {
  const pin = 'fx' in cam ? cam : pinholeFromSim(cam, width, height);
  return goals.map((q) => {
    const p = projectPinhole(pin, forwardKinematics(q).tip, width, height);
    return p === null ? null : [p[0] / width, p[1] / height];
  });
}

/**
 * The camera the tip path is drawn on, and its model: the simulator's front camera in the
 * simulator; on a real SO-100/SO-101 arm the first host camera given a calibration
 * (`--camera-calib`); none for other arms (Koch: the kinematics here are the SO-101's, and a path
 * drawn with the wrong arm's geometry would mislead) or without a calibration.
 */
export function ghostCamera(
  robotType: string,
  cameras: readonly { key: string; width: number; height: number }[],
  calibrations: Readonly<Record<string, CameraCalibration | undefined>>,
): { key: string; width: number; height: number; model: CameraModel | CameraCalibration } | undefined {
  if (robotType === 'sim_so101') {
    const front = cameras.find((c) => c.key === 'front');
    return front && { key: front.key, width: front.width, height: front.height, model: FRONT_CAMERA };
  }
  if (!/^so10[01]/.test(robotType)) return undefined;
  for (const c of cameras) {
    const model = calibrations[c.key];
    if (model !== undefined) return { key: c.key, width: c.width, height: c.height, model };
  }
  return undefined;
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
