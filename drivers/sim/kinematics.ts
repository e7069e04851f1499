/**
 * SO-101 kinematics (pure): joint order, limits, link lengths, forward and inverse kinematics.
 *
 * World frame: origin on the table top at the centre of the arm's base; +x forward (towards the
 * workspace), +y to the arm's left, +z up. Metres.
 *
 * Angle conventions (degrees; all zero = the "ready" pose: upper arm upright, forearm folded
 * forward level with the table, gripper pointing straight down, jaws open):
 * - shoulder_pan: rotation about +z; 0 faces +x, positive turns left (towards +y).
 * - shoulder_lift: pitch of the upper arm from vertical; positive tips it forward (down).
 * - elbow_flex: bend of the forearm relative to the upper arm, with 0 = perpendicular (forearm
 *   pointing forward when the upper arm is upright); positive folds it further down, -90 = straight arm.
 * - wrist_flex: bend of the gripper relative to the forearm, 0 = perpendicular (pointing down in the
 *   ready pose); positive folds further.
 * - wrist_roll: rotation of the gripper about its own approach axis, right-handed.
 * - gripper: 0 = open (jaws 7 cm apart), 100 = closed.
 *
 * So with absolute pitches measured from vertical-up towards the arm's forward direction:
 * upper arm a1 = lift, forearm a2 = a1 + 90 + elbow, gripper a3 = a2 + 90 + wrist_flex.
 * "Gripper pitch" in this module is a3 - 90: 0 = horizontal pointing outwards, 90 = straight down.
 */

export type Vec3 = [number, number, number];

export const SO101_JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'] as const;
export type SO101JointName = (typeof SO101_JOINTS)[number];

export interface SimJointLimit {
  name: SO101JointName;
  min: number;
  max: number;
  unit: 'deg' | 'percent';
}

export const SO101_LIMITS: readonly SimJointLimit[] = [
  { name: 'shoulder_pan', min: -110, max: 110, unit: 'deg' },
  { name: 'shoulder_lift', min: -100, max: 100, unit: 'deg' },
  { name: 'elbow_flex', min: -97, max: 97, unit: 'deg' },
  { name: 'wrist_flex', min: -95, max: 95, unit: 'deg' },
  { name: 'wrist_roll', min: -160, max: 160, unit: 'deg' },
  { name: 'gripper', min: 0, max: 100, unit: 'percent' },
];

/** Link geometry (metres), close to the real SO-101. */
export const SO101_GEOMETRY = {
  /** Table top to the shoulder_lift axis. */
  baseHeight: 0.12,
  upperArm: 0.116,
  forearm: 0.135,
  /** wrist_flex axis to the fingertips. */
  gripperLength: 0.1,
  /** Fingertips to the point between the jaws where a grasped object sits. */
  graspDepth: 0.015,
  /** Length of the jaws (the part that extends past the palm). */
  fingerLength: 0.055,
  /** Jaw gap at gripper = 0. */
  maxGap: 0.07,
} as const;

export const DEG = Math.PI / 180;

export interface LinkFrame {
  origin: Vec3;
  x: Vec3;
  y: Vec3;
  z: Vec3;
}

export interface ArmPose {
  /** Turntable frame at the table top; z up, x along the arm's plane. */
  base: LinkFrame;
  /** The following frames have z along the link (towards the next joint) and x lateral (arm's left). */
  shoulder: LinkFrame;
  elbow: LinkFrame;
  wrist: LinkFrame;
  /** Gripper frame at the wrist_flex axis: z = approach axis, x = jaw closing axis (after roll). */
  gripper: LinkFrame;
  tip: Vec3;
  /** Point between the jaws where a grasped object is held. */
  grasp: Vec3;
  /** Jaw gap in metres. */
  gap: number;
  /** a3 - 90: 0 = horizontal outward, 90 = pointing down. */
  pitchDeg: number;
}

// --- small vector helpers (exported for the world and the renderer) ---
export const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
export const norm = (a: Vec3): number => Math.hypot(a[0], a[1], a[2]);
export const normalize = (a: Vec3): Vec3 => {
  const n = norm(a);
  return n > 0 ? scale(a, 1 / n) : [0, 0, 0];
};
/** a + b * s */
export const addScaled = (a: Vec3, b: Vec3, s: number): Vec3 => [a[0] + b[0] * s, a[1] + b[1] * s, a[2] + b[2] * s];

export function clampToLimits(q: readonly number[]): number[] {
  return SO101_LIMITS.map((lim, i) => {
    const v = q[i] ?? 0;
    return Number.isFinite(v) ? Math.min(lim.max, Math.max(lim.min, v)) : 0;
  });
}

export function withinLimits(q: readonly number[], tol = 1e-9): boolean {
  return SO101_LIMITS.every((lim, i) => {
    const v = q[i];
    return v !== undefined && v >= lim.min - tol && v <= lim.max + tol;
  });
}

/** Jaw gap (m) for a gripper command 0..100. */
export function gripperGap(gripper: number): number {
  const g = Math.min(100, Math.max(0, gripper));
  return SO101_GEOMETRY.maxGap * (1 - g / 100);
}

/** Gripper command 0..100 giving this jaw gap. */
export function gripperForGap(gap: number): number {
  return Math.min(100, Math.max(0, 100 * (1 - gap / SO101_GEOMETRY.maxGap)));
}

export function forwardKinematics(q: readonly number[]): ArmPose {
  const G = SO101_GEOMETRY;
  const pan = (q[0] ?? 0) * DEG;
  const a1 = (q[1] ?? 0) * DEG;
  const a2 = a1 + (90 + (q[2] ?? 0)) * DEG;
  const a3 = a2 + (90 + (q[3] ?? 0)) * DEG;
  const roll = (q[4] ?? 0) * DEG;
  const u: Vec3 = [Math.cos(pan), Math.sin(pan), 0]; // forward in the arm's plane
  const v: Vec3 = [-Math.sin(pan), Math.cos(pan), 0]; // lateral (arm's left)
  const up: Vec3 = [0, 0, 1];
  const dir = (a: number): Vec3 => [u[0] * Math.sin(a), u[1] * Math.sin(a), Math.cos(a)];
  const linkFrame = (origin: Vec3, a: number): LinkFrame => {
    const z = dir(a);
    return { origin, x: v, y: cross(z, v), z };
  };
  const shoulderO: Vec3 = [0, 0, G.baseHeight];
  const elbowO = addScaled(shoulderO, dir(a1), G.upperArm);
  const wristO = addScaled(elbowO, dir(a2), G.forearm);
  const g = dir(a3);
  // closing axis: the lateral axis rotated about the approach axis by the roll
  const gxv = cross(g, v);
  const cx: Vec3 = normalize(add(scale(v, Math.cos(roll)), scale(gxv, Math.sin(roll))));
  const gripper: LinkFrame = { origin: wristO, x: cx, y: cross(g, cx), z: g };
  const tip = addScaled(wristO, g, G.gripperLength);
  return {
    base: { origin: [0, 0, 0], x: u, y: v, z: up },
    shoulder: linkFrame(shoulderO, a1),
    elbow: linkFrame(elbowO, a2),
    wrist: linkFrame(wristO, a3),
    gripper,
    tip,
    grasp: addScaled(tip, g, -G.graspDepth),
    gap: gripperGap(q[5] ?? 0),
    pitchDeg: a3 / DEG - 90,
  };
}

export interface IkTarget {
  /** Fingertip position (world frame). */
  position: Vec3;
  /** Gripper pitch: 0 = horizontal outward, 90 = pointing straight down. Default 90. */
  pitchDeg?: number;
  rollDeg?: number;
  gripper?: number;
  /** Pan to use when the target is on the base axis (pan undefined). */
  panHintDeg?: number;
}

export interface IkResult {
  /** Full 6-joint vector (clamped to the limits). */
  joints: number[];
  /** False when the wrist point is out of the two-link arm's reach (joints are then the closest stretch). */
  reachable: boolean;
  /** False when the exact solution needed a joint past its limit (joints are clamped). */
  withinLimits: boolean;
}

/**
 * Analytic IK: pan from the target's bearing, then the planar two-link problem for the wrist point
 * (elbow-up branch), and the wrist_flex that gives the requested pitch.
 */
export function inverseKinematics(t: IkTarget): IkResult {
  const G = SO101_GEOMETRY;
  const [x, y, z] = t.position;
  const pitch = t.pitchDeg ?? 90;
  const rxy = Math.hypot(x, y);
  const panDeg = rxy < 1e-9 ? (t.panHintDeg ?? 0) : Math.atan2(y, x) / DEG;
  const a3 = (90 + pitch) * DEG;
  const wr = rxy - G.gripperLength * Math.sin(a3);
  const wz = z - G.gripperLength * Math.cos(a3);
  const dr = wr;
  const dz = wz - G.baseHeight;
  const L1 = G.upperArm;
  const L2 = G.forearm;
  const d = Math.hypot(dr, dz);
  const dMin = Math.abs(L1 - L2);
  const dMax = L1 + L2;
  const reachable = d <= dMax + 1e-9 && d >= dMin - 1e-9;
  const dc = Math.min(dMax, Math.max(dMin, d));
  const cosB = Math.min(1, Math.max(-1, (dc * dc - L1 * L1 - L2 * L2) / (2 * L1 * L2)));
  const b = Math.acos(cosB); // 0 = straight, forearm bends forward/down of the upper arm
  const phi = Math.atan2(dr, dz); // bearing of the wrist point from vertical, forward positive
  const a1 = phi - Math.atan2(L2 * Math.sin(b), L1 + L2 * Math.cos(b));
  const a2 = a1 + b;
  const raw = [
    panDeg,
    a1 / DEG,
    b / DEG - 90,
    (a3 - a2) / DEG - 90,
    t.rollDeg ?? 0,
    t.gripper ?? 0,
  ];
  const joints = clampToLimits(raw);
  return { joints, reachable, withinLimits: withinLimits(raw) };
}

/** Wraps an angle (deg) to (-180, 180]. */
export function wrapDeg(a: number): number {
  let r = ((a + 180) % 360 + 360) % 360 - 180;
  if (r === -180) r = 180;
  return r;
}

/**
 * With the gripper pointing straight down, the jaw closing axis has world yaw pan + 90 - roll.
 * Returns the roll in (-45, 45] that lines the jaws up with the faces of a box of this yaw.
 */
export function rollForYaw(panDeg: number, yawDeg: number): number {
  let r = (((panDeg + 90 - yawDeg) % 90) + 90) % 90; // [0, 90)
  if (r > 45) r -= 90;
  return r;
}
