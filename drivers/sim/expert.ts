/**
 * A scripted expert for the simulated tabletop: reads the ground truth, plans waypoints with IK and
 * emits one joint goal per control tick, with ECoT-style annotations (plan, subtask, move primitive,
 * gripper, visible objects with boxes in the front camera).
 *
 * Motion: a commanded Cartesian pose (fingertip position, pitch, roll) moves towards the current
 * waypoint at a bounded speed, straight ('line') or along an arc around the base ('polar'); IK turns
 * it into joints; the goal then changes by at most maxJointStepDeg per tick (default 6 deg, which
 * the servos follow at 180 deg/s at 30 Hz), so a per-tick safety clamp of 10 deg never cuts it.
 * When a grasp misses, a block is dropped, or the scene isn't solved at the end of the script, it
 * replans from the current ground truth.
 */
import { DEG, forwardKinematics, inverseKinematics, rollForYaw, type Vec3 } from './kinematics';
import { visibleObjects } from './render';
import { PUSH_TARGET_DISTANCE, type Task } from './tasks';
import { closingYawDeg, type SimWorld } from './world';

export interface ExpertAnnotation {
  task: string;
  /** Numbered subtasks: "1. move above red block 2. grasp red block 3. lift ..." */
  plan: string;
  subtask: string;
  /** Primitive: "move left", "move forward down", "close gripper", "stop", ... (arm's frame). */
  move: string;
  gripper: 'open' | 'close';
  /** "red block [x0, y0, x1, y1], bowl [...]" in front camera pixels. */
  visibleObjects: string;
}

export interface ExpertStep {
  goal: number[];
  annotation: ExpertAnnotation;
  done: boolean;
}

export interface ExpertOptions {
  /** Control rate the caller steps the world at (default 30). */
  fps?: number;
  /** Front camera image size for the visible-object boxes (default 224 x 224). */
  imageWidth?: number;
  imageHeight?: number;
  /** Largest change of a body joint's goal per tick (deg, default 6). */
  maxJointStepDeg?: number;
  /** Largest change of the gripper goal per tick (%, default 10). */
  maxGripperStep?: number;
  /** Fingertip speed (m/s, default 0.15). */
  speed?: number;
}

interface CartPose {
  pos: Vec3;
  pitch: number;
  roll: number;
}

type Phase =
  | { kind: 'move'; sub: number; target: () => CartPose; mode: 'polar' | 'line'; gripper: number | 'keep'; speed?: number; resolved?: CartPose }
  | { kind: 'grip'; sub: number; close: boolean; block: number; after?: number }
  | { kind: 'settle'; sub: number; ticks: number; block: number };

/** A body joint this far from the last goal means the arm was moved by someone else. */
const RESYNC_DEG = 15;
const TRANSIT_Z = 0.12;
const ABOVE_Z = 0.1;
const PUSH_Z = 0.008;

export class ScriptedExpert {
  private readonly world: SimWorld;
  private readonly dt: number;
  private readonly width: number;
  private readonly height: number;
  private readonly maxStep: number;
  private readonly maxGripStep: number;
  private readonly speed: number;
  private task!: Task;
  private planText: string[] = [];
  private phases: Phase[] = [];
  private cmd: CartPose | undefined;
  private goal: number[] | undefined;
  private gripGoal = 0;
  private cycles = 0;

  constructor(world: SimWorld, opts: ExpertOptions = {}) {
    this.world = world;
    this.dt = 1 / (opts.fps ?? 30);
    this.width = opts.imageWidth ?? 224;
    this.height = opts.imageHeight ?? 224;
    this.maxStep = opts.maxJointStepDeg ?? 6;
    this.maxGripStep = opts.maxGripperStep ?? 10;
    this.speed = opts.speed ?? 0.15;
    this.reset();
  }

  /** Forgets the plan and the motion state (act() also does this by itself after world.reset() or when the arm was moved by someone else). */
  reset(): void {
    this.task = this.world.task;
    this.cmd = undefined;
    this.goal = undefined;
    this.cycles = 0;
    this.plan();
  }

  act(): ExpertStep {
    const world = this.world;
    if (world.task !== this.task) this.reset();
    const present = world.getPositions();
    // someone else moved the arm (an operator took over, a test teleported it): start again from here
    if (this.goal && this.goal.some((g, i) => i < 5 && Math.abs(g - present[i]!) > RESYNC_DEG)) {
      this.goal = undefined;
      this.plan();
    }
    if (!this.goal) {
      this.goal = present.slice();
      this.gripGoal = present[5]!;
      const pose = forwardKinematics(present);
      this.cmd = { pos: pose.tip, pitch: pose.pitchDeg, roll: present[4]! };
    }
    const prevCmd = this.cmd!;
    let moveWord = 'stop';
    let desired: number[] | undefined;
    // run phases; those that finish immediately hand over within the same tick
    for (let guard = 0; guard < 8; guard++) {
      if (this.phases.length === 0) {
        if (world.isSuccess()) break;
        this.cycles++;
        this.plan();
        if (this.phases.length === 0) break;
      }
      const ph = this.phases[0]!;
      const r = this.runPhase(ph, present);
      if (r.desired) desired = r.desired;
      if (r.move) moveWord = r.move;
      if (!r.finished) break;
      this.phases.shift();
      if (r.failed) {
        this.recover();
      }
      if (desired) break;
    }
    // rate-limit the goal
    const target = desired ?? this.holdTarget();
    const goal = this.goal!.map((g, i) => {
      const lim = i === 5 ? this.maxGripStep : this.maxStep;
      const d = Math.max(-lim, Math.min(lim, (target[i] ?? g) - g));
      return g + d;
    });
    this.goal = goal;
    if (moveWord === 'stop' || moveWord === 'move') moveWord = describeMove(prevCmd, this.cmd!);
    const current = this.phases[0];
    const sub = current ? current.sub : this.planText.length - 1;
    return {
      goal: goal.slice(),
      done: world.isSuccess(),
      annotation: {
        task: this.task.instruction,
        plan: this.planText.map((s, i) => `${i + 1}. ${s}`).join(' '),
        subtask: this.planText[Math.max(0, sub)] ?? '',
        move: moveWord,
        gripper: this.gripGoal > 50 ? 'close' : 'open',
        visibleObjects: visibleObjects(world, this.width, this.height)
          .map((o) => `${o.name} [${o.box.join(', ')}]`)
          .join(', '),
      },
    };
  }

  private holdTarget(): number[] {
    const ik = inverseKinematics({ position: this.cmd!.pos, pitchDeg: this.cmd!.pitch, rollDeg: this.cmd!.roll, gripper: this.gripGoal });
    return ik.joints;
  }

  /** After a failed grasp: open the jaws, back off upwards, then plan again from the ground truth. */
  private recover(): void {
    const t = this.task.target;
    this.phases = [
      { kind: 'grip', sub: 0, close: false, block: t },
      { kind: 'move', sub: 0, mode: 'line', gripper: 0, target: () => ({ ...this.cmd!, pos: [this.cmd!.pos[0], this.cmd!.pos[1], TRANSIT_Z] }) },
    ];
  }

  private runPhase(ph: Phase, present: number[]): { finished: boolean; failed?: boolean; desired?: number[]; move?: string } {
    const world = this.world;
    switch (ph.kind) {
      case 'move': {
        ph.resolved ??= ph.target();
        const to = ph.resolved;
        const gripTarget = ph.gripper === 'keep' ? this.gripGoal : ph.gripper;
        this.gripGoal = stepToward(this.gripGoal, gripTarget, this.maxGripStep);
        const cmd = this.cmd!;
        const stepLen = (ph.speed ?? this.speed) * this.dt;
        const next = advance(cmd, to, stepLen, ph.mode, 120 * this.dt);
        this.cmd = next;
        const ik = inverseKinematics({ position: next.pos, pitchDeg: next.pitch, rollDeg: next.roll, gripper: this.gripGoal, panHintDeg: present[0] });
        const arrived = samePose(next, to);
        const settled = this.goal!.every((g, i) => i === 5 || Math.abs(g - ik.joints[i]!) < 0.5) && ik.joints.every((q, i) => i === 5 || Math.abs(q - present[i]!) < 1.0);
        const gripOk = ph.gripper === 'keep' || world.heldBlock() !== undefined || Math.abs(present[5]! - gripTarget) < 2;
        if (world.heldBlockIndex() < 0 && this.carrying(ph)) return { finished: true, failed: true, desired: ik.joints };
        return { finished: arrived && settled && gripOk, desired: ik.joints, move: 'move' };
      }
      case 'grip': {
        const desiredGrip = ph.close ? 100 : 0;
        this.gripGoal = stepToward(this.gripGoal, desiredGrip, this.maxGripStep);
        const ik = this.holdTarget();
        const move = ph.close ? 'close gripper' : 'open gripper';
        if (ph.close) {
          if (world.heldBlockIndex() === ph.block) {
            ph.after = (ph.after ?? 0) + 1;
            return { finished: ph.after >= 3, desired: ik, move };
          }
          if (world.heldBlockIndex() >= 0 || present[5]! >= 95) return { finished: true, failed: true, desired: ik, move };
          return { finished: false, desired: ik, move };
        }
        return { finished: world.heldBlockIndex() < 0 && present[5]! <= 1, desired: ik, move };
      }
      case 'settle': {
        ph.ticks--;
        const b = world.blocks[ph.block];
        return { finished: ph.ticks <= 0 || (b !== undefined && b.state === 'resting'), desired: this.holdTarget(), move: 'stop' };
      }
    }
  }

  /** Move phases that carry the target block (a drop during them means replanning). */
  private carrying(ph: Phase): boolean {
    return ph.kind === 'move' && ph.gripper === 'keep' && this.task.family !== 'push';
  }

  /** Builds the plan and phases for the task from the current ground truth. */
  private plan(): void {
    const task = this.task;
    const world = this.world;
    if (this.cycles > 20) {
      this.phases = [];
      return;
    }
    const t = task.target;
    const blk = () => world.blocks[t]!;
    const h = blk().size / 2;
    if (task.family === 'push') {
      const s = task.sign;
      const side = s === 1 ? 'right' : 'left';
      this.planText = [`move to the ${side} of ${blk().name}`, 'lower gripper', `push ${blk().name} ${task.direction}`, 'lift'];
      const start = world.initialBlocks[t]!;
      const goalY = start[1] + s * PUSH_TARGET_DISTANCE;
      const rollAt = (p: Vec3) => rollForYaw(Math.atan2(p[1], p[0]) / DEG, 0);
      const behind = (): Vec3 => [blk().pos[0], blk().pos[1] - s * (h + 0.03), PUSH_Z];
      this.phases = [
        { kind: 'move', sub: 0, mode: 'polar', gripper: 100, target: () => { const p = behind(); return { pos: [p[0], p[1], 0.08], pitch: 90, roll: rollAt(p) }; } },
        { kind: 'move', sub: 1, mode: 'line', gripper: 100, target: () => { const p = behind(); return { pos: p, pitch: 90, roll: rollAt(p) }; } },
        {
          kind: 'move', sub: 2, mode: 'line', gripper: 100, speed: 0.08,
          target: () => { const p: Vec3 = [blk().pos[0], goalY - s * (h + 0.014), PUSH_Z]; return { pos: p, pitch: 90, roll: rollAt(p) }; },
        },
        { kind: 'move', sub: 3, mode: 'line', gripper: 100, target: () => ({ ...this.cmd!, pos: [this.cmd!.pos[0], this.cmd!.pos[1] - s * 0.02, 0.03] }) },
        { kind: 'move', sub: 3, mode: 'line', gripper: 100, target: () => ({ ...this.cmd!, pos: [this.cmd!.pos[0], this.cmd!.pos[1], ABOVE_Z] }) },
      ];
      if (world.heldBlockIndex() >= 0) {
        // put down whatever is in the jaws first (for a push, that includes the target)
        this.phases.unshift(
          { kind: 'grip', sub: 0, close: false, block: world.heldBlockIndex() },
          { kind: 'move', sub: 0, mode: 'line', gripper: 0, target: () => ({ ...this.cmd!, pos: [this.cmd!.pos[0], this.cmd!.pos[1], TRANSIT_Z] }) },
        );
      }
      return;
    }
    const destName = task.family === 'stack' ? world.blocks[task.base]!.name : 'bowl';
    this.planText = [`move above ${blk().name}`, `grasp ${blk().name}`, 'lift', `move above ${destName}`, 'release'];
    const graspRoll = (): number => rollForYaw(Math.atan2(blk().pos[1], blk().pos[0]) / DEG, blk().yawDeg);
    /** Where the fingertips go so the held block's centre ends at (x, y) with its bottom at bottomZ. */
    const placeTip = (x: number, y: number, bottomZ: number, roll: number): CartPose => {
      const held = world.heldBlock();
      const pose = world.armPose();
      const off: Vec3 = held ? [held.pos[0] - pose.tip[0], held.pos[1] - pose.tip[1], held.pos[2] - pose.tip[2]] : [0, 0, 0.011];
      return { pos: [x - off[0], y - off[1], bottomZ + h - off[2]], pitch: 90, roll };
    };
    const dest = (): { x: number; y: number; bottom: number; roll: number } => {
      if (task.family === 'stack') {
        const b = world.blocks[task.base]!;
        // the held block's yaw is the jaws' yaw plus a fixed offset: choose the roll that lines its faces up with the base's
        const held = world.heldBlock();
        const offset = held ? held.yawDeg - closingYawDeg(world.armPose()) : 0;
        return { x: b.pos[0], y: b.pos[1], bottom: b.pos[2] + b.size / 2 + 0.006, roll: rollForYaw(Math.atan2(b.pos[1], b.pos[0]) / DEG, b.yawDeg - offset) };
      }
      const bw = world.bowl;
      return { x: bw.pos[0], y: bw.pos[1], bottom: bw.height + 0.02, roll: this.cmd?.roll ?? 0 };
    };
    this.phases = [
      { kind: 'move', sub: 0, mode: 'polar', gripper: 0, target: () => ({ pos: [blk().pos[0], blk().pos[1], ABOVE_Z], pitch: 90, roll: graspRoll() }) },
      { kind: 'move', sub: 1, mode: 'line', gripper: 0, target: () => ({ pos: [blk().pos[0], blk().pos[1], Math.max(0.004, blk().pos[2] - 0.011)], pitch: 90, roll: graspRoll() }) },
      { kind: 'grip', sub: 1, close: true, block: t },
      { kind: 'move', sub: 2, mode: 'line', gripper: 'keep', target: () => ({ ...this.cmd!, pos: [this.cmd!.pos[0], this.cmd!.pos[1], TRANSIT_Z] }) },
      { kind: 'move', sub: 3, mode: 'polar', gripper: 'keep', target: () => { const d = dest(); const p = placeTip(d.x, d.y, d.bottom, d.roll); return { ...p, pos: [p.pos[0], p.pos[1], TRANSIT_Z] }; } },
      { kind: 'move', sub: 4, mode: 'line', gripper: 'keep', speed: 0.08, target: () => { const d = dest(); return placeTip(d.x, d.y, d.bottom, d.roll); } },
      { kind: 'grip', sub: 4, close: false, block: t },
      { kind: 'settle', sub: 4, ticks: 30, block: t },
      { kind: 'move', sub: 4, mode: 'line', gripper: 0, target: () => ({ ...this.cmd!, pos: [this.cmd!.pos[0], this.cmd!.pos[1], TRANSIT_Z] }) },
    ];
    // already holding the block (handed back mid-carry): carry on from the lift
    if (world.heldBlockIndex() === t) this.phases = this.phases.slice(3);
    else this.releaseOtherFirst();
  }

  /** Holding a block the task doesn't want: put it down where it is before anything else. */
  private releaseOtherFirst(): void {
    const held = this.world.heldBlockIndex();
    if (held < 0 || held === this.task.target) return;
    this.phases.unshift(
      { kind: 'grip', sub: 0, close: false, block: held },
      { kind: 'move', sub: 0, mode: 'line', gripper: 0, target: () => ({ ...this.cmd!, pos: [this.cmd!.pos[0], this.cmd!.pos[1], TRANSIT_Z] }) },
    );
  }
}

function stepToward(v: number, target: number, maxStep: number): number {
  return v + Math.max(-maxStep, Math.min(maxStep, target - v));
}

function samePose(a: CartPose, b: CartPose): boolean {
  return Math.hypot(a.pos[0] - b.pos[0], a.pos[1] - b.pos[1], a.pos[2] - b.pos[2]) < 1e-6 && Math.abs(a.pitch - b.pitch) < 1e-6 && Math.abs(a.roll - b.roll) < 1e-6;
}

/** Moves the commanded pose towards the target by at most stepLen (m) and angStep (deg). */
function advance(from: CartPose, to: CartPose, stepLen: number, mode: 'polar' | 'line', angStep: number): CartPose {
  let pos: Vec3;
  if (mode === 'line') {
    const d: Vec3 = [to.pos[0] - from.pos[0], to.pos[1] - from.pos[1], to.pos[2] - from.pos[2]];
    const len = Math.hypot(d[0], d[1], d[2]);
    const f = len <= stepLen ? 1 : stepLen / len;
    pos = f === 1 ? [...to.pos] as Vec3 : [from.pos[0] + d[0] * f, from.pos[1] + d[1] * f, from.pos[2] + d[2] * f];
  } else {
    const r0 = Math.hypot(from.pos[0], from.pos[1]);
    const r1 = Math.hypot(to.pos[0], to.pos[1]);
    const t0 = Math.atan2(from.pos[1], from.pos[0]);
    const t1 = Math.atan2(to.pos[1], to.pos[0]);
    let dt = t1 - t0;
    if (dt > Math.PI) dt -= 2 * Math.PI;
    if (dt < -Math.PI) dt += 2 * Math.PI;
    const dz = to.pos[2] - from.pos[2];
    const len = Math.hypot(r1 - r0, dt * Math.max(0.05, (r0 + r1) / 2), dz);
    if (len <= stepLen) pos = [...to.pos] as Vec3;
    else {
      const f = stepLen / len;
      const r = r0 + (r1 - r0) * f;
      const th = t0 + dt * f;
      pos = [r * Math.cos(th), r * Math.sin(th), from.pos[2] + dz * f];
    }
  }
  return { pos, pitch: stepToward(from.pitch, to.pitch, angStep), roll: stepToward(from.roll, to.roll, angStep) };
}

/** ECoT-style primitive from the commanded fingertip motion (arm frame: +x forward, +y left, +z up). */
function describeMove(a: CartPose, b: CartPose): string {
  const d = [b.pos[0] - a.pos[0], b.pos[1] - a.pos[1], b.pos[2] - a.pos[2]];
  const words: [number, string][] = [
    [Math.abs(d[0]!), d[0]! > 0 ? 'forward' : 'backward'],
    [Math.abs(d[1]!), d[1]! > 0 ? 'left' : 'right'],
    [Math.abs(d[2]!), d[2]! > 0 ? 'up' : 'down'],
  ];
  const max = Math.max(...words.map((w) => w[0]));
  if (max < 2e-4) return Math.abs(b.roll - a.roll) > 0.05 || Math.abs(b.pitch - a.pitch) > 0.05 ? 'rotate gripper' : 'stop';
  return (
    'move ' +
    words
      .filter((w) => w[0] >= 0.4 * max)
      .sort((x, y) => y[0] - x[0])
      .map((w) => w[1])
      .join(' ')
  );
}
