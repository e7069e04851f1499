/**
 * Pinhole camera calibration for host-captured cameras (`--camera-calib front=PATH.json`), and the
 * one projection the ghost uses for every camera: the simulator's front camera is turned into the
 * same pinhole form (pinholeFromSim), so real and simulated cameras share `projectPinhole`. Pure
 * except `readCameraCalibration`, which reads the file.
 *
 * File format (JSON; all lengths in metres, the robot base frame of drivers/sim/kinematics.ts:
 * origin on the table at the centre of the arm's base, +x forward, +y left, +z up):
 *   {
 *     "width": 640, "height": 480,           // the image size the intrinsics are for (pixels)
 *     "fx": 450.0, "fy": 450.0,              // focal lengths (pixels)
 *     "cx": 320.0, "cy": 240.0,              // principal point (pixels; pixel centres at +0.5)
 *     "position": [0.46, 0.0, 0.36],         // the camera's optical centre in the base frame
 *     "rotation": [[r00, r01, r02],          // camera-to-base rotation, rows of a 3x3 matrix: its
 *                  [r10, r11, r12],          // columns are the camera's x (image right), y (image
 *                  [r20, r21, r22]]          // down) and z (optical axis) in the base frame (OpenCV)
 *   }
 * Lens distortion is not modelled (undistorted or low-distortion lenses).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { cross, dot, normalize, sub, type Vec3 } from '../../drivers/sim/kinematics';
import type { CameraModel } from '../../drivers/sim/render';
import { ReinsError } from '../common/errors';

const finite = z.number().finite();
const vec3 = z.tuple([finite, finite, finite]);

export const CameraCalibrationSchema = z
  .object({
    width: z.number().int().min(16).max(8192),
    height: z.number().int().min(16).max(8192),
    fx: finite.positive(),
    fy: finite.positive(),
    cx: finite,
    cy: finite,
    position: vec3,
    rotation: z.tuple([vec3, vec3, vec3]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const R = c.rotation;
    // R^T R = I (columns orthonormal) and det R = +1 (a rotation, not a reflection)
    let worst = 0;
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += R[k]![i]! * R[k]![j]!;
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
      }
    const det = dot(R[0]! as Vec3, cross(R[1]! as Vec3, R[2]! as Vec3));
    if (worst > 1e-3) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rotation'], message: `is not orthonormal (R^T R differs from the identity by ${worst.toPrecision(3)}); give the camera-to-base rotation matrix` });
    else if (det < 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rotation'], message: 'is a reflection (determinant -1), not a rotation: one camera axis is flipped' });
  });

export type CameraCalibration = z.infer<typeof CameraCalibrationSchema>;

/** Validates a parsed calibration; the error names each bad field. `what` names the file in the message. */
export function parseCameraCalibration(json: unknown, what = 'the camera calibration'): CameraCalibration {
  const r = CameraCalibrationSchema.safeParse(json);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `"${i.path.length ? i.path.join('.') : '(top level)'}" ${i.message}`);
  throw new ReinsError('bad_request', `${what} is not a valid camera calibration: ${issues.join('; ')}. Fields: width, height, fx, fy, cx, cy (pixels), position [x, y, z] (metres, robot base frame), rotation (3x3 camera-to-base matrix). See the README, hardware set-up.`);
}

/** Reads and validates a calibration file. */
export function readCameraCalibration(path: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): CameraCalibration {
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    throw new ReinsError('io_error', `Cannot read the camera calibration ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ReinsError('bad_request', `The camera calibration ${path} is not JSON: ${(err as Error).message}`);
  }
  return parseCameraCalibration(json, `The camera calibration ${path}`);
}

/** The simulator's camera model as a pinhole calibration for a `width`×`height` frame (square pixels, centred principal point, focal length from the vertical fov). */
export function pinholeFromSim(cam: CameraModel, width: number, height: number): CameraCalibration {
  const f = normalize(cam.forward);
  const r = normalize(cross(f, cam.up));
  const down = cross(f, r); // = -(r × f): image y grows downwards
  const focal = height / 2 / Math.tan((cam.fovYDeg * Math.PI) / 360);
  return {
    width,
    height,
    fx: focal,
    fy: focal,
    cx: width / 2,
    cy: height / 2,
    position: [...cam.position],
    rotation: [
      [r[0], down[0], f[0]],
      [r[1], down[1], f[1]],
      [r[2], down[2], f[2]],
    ],
  };
}

/** Nearest depth (metres along the optical axis) a point is projected at; nearer or behind: null. */
const NEAR_M = 0.02;

/**
 * Pixel coordinates (x right, y down) of a base-frame point in a `width`×`height` frame of the
 * calibrated camera (the intrinsics are scaled when the frame differs from the calibration's
 * size), or null when the point is behind the camera or nearer than 2 cm.
 */
export function projectPinhole(c: CameraCalibration, p: Vec3, width = c.width, height = c.height): [number, number] | null {
  const d = sub(p, c.position as Vec3);
  const R = c.rotation;
  const col = (j: number): Vec3 => [R[0]![j]!, R[1]![j]!, R[2]![j]!];
  const z = dot(d, col(2));
  if (z < NEAR_M) return null;
  const sx = width / c.width;
  const sy = height / c.height;
  return [(c.fx * (dot(d, col(0)) / z) + c.cx) * sx, (c.fy * (dot(d, col(1)) / z) + c.cy) * sy];
}
