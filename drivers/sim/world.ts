/**
 * The simulated scene: an SO-101 on a tabletop with a few coloured blocks and a bowl.
 *
 * Deterministic from its seed; time only advances through step(dtMs). Physics is deliberately
 * kinematic: joints move towards their goals at a servo-like maximum speed; a block between the
 * jaws attaches when they close on it and follows the gripper; released blocks fall onto whatever
 * is under them (table, another block, the bowl's floor); the jaws push blocks they run into.
 */
import {
  SO101_JOINTS,
  SO101_LIMITS,
  SO101_GEOMETRY,
  addScaled,
  clampToLimits,
  dot,
  forwardKinematics,
  gripperForGap,
  sub,
  type ArmPose,
  type Vec3,
} from './kinematics';
import { mulberry32, type Rng } from './rng';
import { TASK_FAMILIES, isTaskSuccess, makeTask, type Task, type TaskFamily } from './tasks';

export const BLOCK_COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'] as const;
export type BlockColor = (typeof BLOCK_COLORS)[number];

export const BLOCK_SIZE = 0.03;

export interface Block {
  color: BlockColor;
  /** 'red block' */
  name: string;
  /** Centre (m). */
  pos: Vec3;
  /** Rotation about +z (deg); blocks stay upright. */
  yawDeg: number;
  size: number;
  state: 'resting' | 'held' | 'falling';
  /** Vertical speed while falling (m/s, negative = down). */
  vz: number;
}

export interface Bowl {
  /** Centre of the bowl's base on the table. */
  pos: Vec3;
  outerRadius: number;
  innerRadius: number;
  height: number;
  /** Height of the inside floor above the table. */
  floor: number;
}

export interface SimWorldOptions {
  seed: number;
  family?: TaskFamily;
}

/** Servo-like maximum speeds: body joints deg/s, gripper %/s. */
export const MAX_SPEED = [180, 180, 180, 180, 180, 300] as const;
const SUBSTEP_MS = 10;
const GRAVITY = 9.81;
/** Radius of the spheres that stand in for a jaw when pushing blocks. */
const JAW_RADIUS = 0.006;
/** Reset pose: all zeros, the "ready" pose (upper arm up, forearm forward, gripper down, jaws open). */
const HOME: readonly number[] = [0, 0, 0, 0, 0, 0];

export class SimWorld {
  readonly jointNames: readonly string[] = SO101_JOINTS;
  seed = 0;
  task!: Task;
  blocks: Block[] = [];
  bowl!: Bowl;
  /** Simulated time (ms) since reset. */
  timeMs = 0;
  /** Block positions at reset (push success is measured from them). */
  initialBlocks: Vec3[] = [];
  private present: number[] = HOME.slice();
  private goal: number[] = HOME.slice();
  private heldIndex = -1;
  /** Grasped block's centre in the gripper frame, and its yaw relative to the jaws. */
  private heldLocal: Vec3 = [0, 0, 0];
  private heldYawOffset = 0;
  private poseCache: ArmPose | undefined;

  constructor(opts: SimWorldOptions) {
    this.reset(opts);
  }

  /** New layout and task from the seed; the arm returns to the zero pose with the jaws open. */
  reset(opts: SimWorldOptions): void {
    this.seed = opts.seed;
    const rng = mulberry32(opts.seed);
    const family = opts.family ?? rng.pick(TASK_FAMILIES);
    this.present = HOME.slice();
    this.goal = HOME.slice();
    this.heldIndex = -1;
    this.poseCache = undefined;
    this.timeMs = 0;
    for (let attempt = 0; attempt < 1000; attempt++) {
      if (!this.sampleLayout(rng)) continue;
      const task = makeTask(rng, this, family);
      if (task) {
        this.task = task;
        this.initialBlocks = this.blocks.map((b) => [...b.pos] as Vec3);
        return;
      }
    }
    throw new Error(`SimWorld: no feasible ${family} layout for seed ${opts.seed}`);
  }

  /** False when the blocks couldn't be spread out (the caller samples again). */
  private sampleLayout(rng: Rng): boolean {
    const n = 2 + rng.int(3);
    const colors = rng.shuffle(BLOCK_COLORS).slice(0, n);
    const polar = (rMin: number, rMax: number, maxDeg: number): Vec3 => {
      const r = rng.range(rMin, rMax);
      const a = rng.range(-maxDeg, maxDeg) * (Math.PI / 180);
      return [r * Math.cos(a), r * Math.sin(a), 0];
    };
    const bowlPos = polar(0.165, 0.215, 60);
    this.bowl = { pos: bowlPos, outerRadius: 0.06, innerRadius: 0.053, height: 0.04, floor: 0.004 };
    this.blocks = [];
    for (const color of colors) {
      let pos: Vec3 | undefined;
      for (let tries = 0; tries < 100 && !pos; tries++) {
        const p = polar(0.14, 0.225, 65);
        const farFromBowl = Math.hypot(p[0] - bowlPos[0], p[1] - bowlPos[1]) > 0.1;
        const farFromBlocks = this.blocks.every((b) => Math.hypot(p[0] - b.pos[0], p[1] - b.pos[1]) > 0.065);
        if (farFromBowl && farFromBlocks) pos = p;
      }
      if (!pos) return false;
      pos[2] = BLOCK_SIZE / 2;
      this.blocks.push({ color, name: `${color} block`, pos, yawDeg: rng.range(-45, 45), size: BLOCK_SIZE, state: 'resting', vz: 0 });
    }
    return true;
  }

  getPositions(): number[] {
    return this.present.slice();
  }

  getGoal(): number[] {
    return this.goal.slice();
  }

  /** Goal is clipped to the joint limits. */
  setGoal(goal: readonly number[]): void {
    if (goal.length !== SO101_JOINTS.length) throw new Error(`SimWorld.setGoal: expected ${SO101_JOINTS.length} values, got ${goal.length}`);
    this.goal = clampToLimits(goal);
  }

  /** Teleports the arm (goal follows). A held block follows the jaws. For setup and tests. */
  setPositions(q: readonly number[]): void {
    this.present = clampToLimits(q);
    this.goal = this.present.slice();
    this.poseCache = undefined;
    this.updateHeld();
  }

  /** Forward kinematics of the present position (cached until the arm moves). */
  armPose(): ArmPose {
    this.poseCache ??= forwardKinematics(this.present);
    return this.poseCache;
  }

  /** The block in the jaws, if any. */
  heldBlock(): Block | undefined {
    return this.heldIndex >= 0 ? this.blocks[this.heldIndex] : undefined;
  }

  heldBlockIndex(): number {
    return this.heldIndex;
  }

  isSuccess(): boolean {
    return isTaskSuccess(this.task, this);
  }

  /** Advances the simulation by dtMs (internally in sub-steps of at most 10 ms). */
  step(dtMs: number): void {
    if (!(dtMs > 0)) return;
    let left = dtMs;
    while (left > 1e-9) {
      const h = Math.min(SUBSTEP_MS, left);
      this.substep(h);
      left -= h;
    }
  }

  private substep(hMs: number): void {
    this.timeMs += hMs;
    const dt = hMs / 1000;
    // 1. servos
    let moved = false;
    for (let i = 0; i < this.present.length; i++) {
      const p = this.present[i]!;
      const delta = this.goal[i]! - p;
      if (delta === 0) continue;
      const maxStep = MAX_SPEED[i]! * dt;
      this.present[i] = Math.abs(delta) <= maxStep ? this.goal[i]! : p + Math.sign(delta) * maxStep;
      moved = true;
    }
    const held = this.heldBlock();
    if (held) {
      // the jaws stall on the block they hold (slight squeeze)
      const stall = gripperForGap(held.size * 0.95);
      if (this.present[5]! > stall) {
        this.present[5] = stall;
        moved = true;
      }
    }
    if (moved) this.poseCache = undefined;
    const pose = this.armPose();
    // 2. grasp / release
    if (held) {
      if (pose.gap > held.size + 0.004) {
        held.state = 'falling';
        held.vz = 0;
        this.heldIndex = -1;
      } else {
        this.updateHeld();
      }
    } else {
      this.tryAttach(pose);
    }
    // 3. jaws push the blocks they run into
    this.pushBlocks(pose);
    // 4. gravity and support
    for (const b of this.blocks) {
      if (b.state === 'held') continue;
      const support = this.supportHeight(b);
      if (b.state === 'resting') {
        if (b.pos[2] > support + 1e-4) {
          b.state = 'falling';
          b.vz = 0;
        } else {
          b.pos[2] = Math.max(b.pos[2], support);
          continue;
        }
      }
      b.vz -= GRAVITY * dt;
      b.pos[2] += b.vz * dt;
      if (b.pos[2] <= support) {
        b.pos[2] = support;
        b.vz = 0;
        b.state = 'resting';
      }
    }
  }

  private tryAttach(pose: ArmPose): void {
    const gf = pose.gripper;
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      if (b.state === 'held') continue;
      if (pose.gap > b.size + 0.001) continue;
      const rel = sub(b.pos, pose.grasp);
      const lx = dot(rel, gf.x);
      const ly = dot(rel, gf.y);
      const lz = dot(rel, gf.z);
      if (Math.abs(lx) <= 0.012 && Math.abs(ly) <= 0.016 && Math.abs(lz) <= 0.022) {
        this.heldIndex = i;
        b.state = 'held';
        b.vz = 0;
        this.heldLocal = [lx, ly, lz];
        this.heldYawOffset = b.yawDeg - closingYawDeg(pose);
        return;
      }
    }
  }

  /** Moves the held block with the jaws. */
  private updateHeld(): void {
    const b = this.heldBlock();
    if (!b) return;
    const pose = this.armPose();
    const g = pose.gripper;
    let p = addScaled(pose.grasp, g.x, this.heldLocal[0]);
    p = addScaled(p, g.y, this.heldLocal[1]);
    p = addScaled(p, g.z, this.heldLocal[2]);
    b.pos = p;
    b.yawDeg = closingYawDeg(pose) + this.heldYawOffset;
  }

  /** Sphere samples of both jaws (for pushing). */
  private jawPoints(pose: ArmPose): Vec3[] {
    const g = pose.gripper;
    const pts: Vec3[] = [];
    const off = pose.gap / 2 + JAW_RADIUS;
    for (const side of [-1, 1]) {
      for (const along of [0.004, 0.02, 0.036]) {
        for (const across of [-0.007, 0, 0.007]) {
          let p = addScaled(pose.tip, g.z, -along);
          p = addScaled(p, g.x, side * off);
          p = addScaled(p, g.y, across);
          pts.push(p);
        }
      }
    }
    return pts;
  }

  private pushBlocks(pose: ArmPose): void {
    const pts = this.jawPoints(pose);
    for (const b of this.blocks) {
      if (b.state === 'held') continue;
      const h = b.size / 2;
      const yaw = (b.yawDeg * Math.PI) / 180;
      const c = Math.cos(yaw);
      const s = Math.sin(yaw);
      for (const p of pts) {
        if (p[2] > b.pos[2] + h + JAW_RADIUS * 0.5 || p[2] < b.pos[2] - h - JAW_RADIUS) continue;
        // jaw sphere vs the block's square footprint, in the block's frame
        const dx = p[0] - b.pos[0];
        const dy = p[1] - b.pos[1];
        const lx = c * dx + s * dy;
        const ly = -s * dx + c * dy;
        const qx = Math.min(h, Math.max(-h, lx));
        const qy = Math.min(h, Math.max(-h, ly));
        let nx: number;
        let ny: number;
        let depth: number;
        if (qx === lx && qy === ly) {
          // centre inside the footprint: push out along the shallowest axis
          const px = h - Math.abs(lx);
          const py = h - Math.abs(ly);
          if (px < py) {
            nx = lx >= 0 ? -1 : 1;
            ny = 0;
            depth = px + JAW_RADIUS;
          } else {
            nx = 0;
            ny = ly >= 0 ? -1 : 1;
            depth = py + JAW_RADIUS;
          }
        } else {
          const ex = lx - qx;
          const ey = ly - qy;
          const dist = Math.hypot(ex, ey);
          if (dist >= JAW_RADIUS) continue;
          nx = -ex / dist;
          ny = -ey / dist;
          depth = JAW_RADIUS - dist;
        }
        // back to world: move the block away from the jaw
        b.pos[0] += (c * nx - s * ny) * depth;
        b.pos[1] += (s * nx + c * ny) * depth;
      }
    }
  }

  /** Height the block's centre would rest at: the table, the bowl's floor or rim, or a block below. */
  supportHeight(b: Block): number {
    const h = b.size / 2;
    let z = h;
    const bw = this.bowl;
    const rb = Math.hypot(b.pos[0] - bw.pos[0], b.pos[1] - bw.pos[1]);
    if (rb < bw.innerRadius - h * 0.5) z = Math.max(z, bw.floor + h);
    else if (rb < bw.outerRadius + h * 0.5) z = Math.max(z, bw.height + h);
    for (const o of this.blocks) {
      if (o === b || o.state === 'held') continue;
      const top = o.pos[2] + o.size / 2 + h;
      if (top > b.pos[2] + 0.002) continue; // not below us
      const yaw = (o.yawDeg * Math.PI) / 180;
      const dx = b.pos[0] - o.pos[0];
      const dy = b.pos[1] - o.pos[1];
      const lx = Math.cos(yaw) * dx + Math.sin(yaw) * dy;
      const ly = -Math.sin(yaw) * dx + Math.cos(yaw) * dy;
      const reach = o.size / 2 * 0.9;
      if (Math.abs(lx) <= reach && Math.abs(ly) <= reach) z = Math.max(z, top);
    }
    return z;
  }

  /** Look up a block by colour. */
  block(color: BlockColor): Block | undefined {
    return this.blocks.find((b) => b.color === color);
  }

  get jointLimits(): typeof SO101_LIMITS {
    return SO101_LIMITS;
  }

  /** Geometry constants, for renderers. */
  get geometry(): typeof SO101_GEOMETRY {
    return SO101_GEOMETRY;
  }
}

/** World yaw (deg) of the jaws' closing axis. */
export function closingYawDeg(pose: ArmPose): number {
  const x = pose.gripper.x;
  return (Math.atan2(x[1], x[0]) * 180) / Math.PI;
}
