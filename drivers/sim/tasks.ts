/**
 * Task families, instructions and success predicates for the simulated tabletop.
 *
 * Canonical instructions (always in `task.instruction`):
 *   pick_place: "pick up the <colour> block and put it in the bowl"
 *   push:       "push the <colour> block to the <left|right>"
 *   stack:      "stack the <colour> block on the <colour> block"
 * Left and right are the arm's own (+y is its left), which is the right of the front camera's image.
 */
import { inverseKinematics, type Vec3 } from './kinematics';
import type { Rng } from './rng';
import type { Block, SimWorld } from './world';

export type TaskFamily = 'pick_place' | 'push' | 'stack';
export const TASK_FAMILIES: readonly TaskFamily[] = ['pick_place', 'push', 'stack'];

interface TaskBase {
  family: TaskFamily;
  /** Canonical phrasing. */
  instruction: string;
  /** Paraphrases of the same task (the canonical one first). */
  variants: string[];
  /** Index into world.blocks of the block to manipulate. */
  target: number;
}
export interface PickPlaceTask extends TaskBase {
  family: 'pick_place';
}
export interface PushTask extends TaskBase {
  family: 'push';
  direction: 'left' | 'right';
  /** +1 for left (+y), -1 for right. */
  sign: 1 | -1;
}
export interface StackTask extends TaskBase {
  family: 'stack';
  /** Index of the block to stack onto. */
  base: number;
}
export type Task = PickPlaceTask | PushTask | StackTask;

/** How far (m, along y) a pushed block must travel from where it started. */
export const PUSH_SUCCESS_DISTANCE = 0.05;
/** How far the expert aims to push it. */
export const PUSH_TARGET_DISTANCE = 0.075;

/** True when the fingertips can reach p with the gripper pointing down, within the joint limits. */
export function reachableFromAbove(p: Vec3): boolean {
  const r = inverseKinematics({ position: p, pitchDeg: 90 });
  return r.reachable && r.withinLimits;
}

/**
 * Picks a task of the family (a random one when omitted) for the world's current layout, or
 * undefined when the layout can't host one (the world then samples another layout).
 */
export function makeTask(rng: Rng, world: SimWorld, family: TaskFamily = rng.pick(TASK_FAMILIES)): Task | undefined {
  const order = rng.shuffle(world.blocks.map((_, i) => i));
  const okBlock = (b: Block): boolean =>
    reachableFromAbove([b.pos[0], b.pos[1], 0.004]) && reachableFromAbove([b.pos[0], b.pos[1], 0.12]);
  const bowl = world.bowl;
  if (!reachableFromAbove([bowl.pos[0], bowl.pos[1], 0.12]) || !reachableFromAbove([bowl.pos[0], bowl.pos[1], 0.06])) return undefined;
  for (const i of order) {
    const b = world.blocks[i]!;
    if (!okBlock(b)) continue;
    const c = b.color;
    if (family === 'pick_place') {
      const instruction = `pick up the ${c} block and put it in the bowl`;
      return {
        family,
        target: i,
        instruction,
        variants: [instruction, `put the ${c} block in the bowl`, `place the ${c} block into the bowl`],
      };
    }
    if (family === 'stack') {
      const bases = order.filter((j) => j !== i && okBlock(world.blocks[j]!));
      if (bases.length === 0) continue;
      const j = bases[0]!;
      const bc = world.blocks[j]!.color;
      const instruction = `stack the ${c} block on the ${bc} block`;
      return {
        family,
        target: i,
        base: j,
        instruction,
        variants: [instruction, `put the ${c} block on top of the ${bc} block`, `place the ${c} block onto the ${bc} block`],
      };
    }
    // push: the path (and a margin behind the block) must be reachable and clear of other objects
    for (const sign of rng.shuffle([1, -1] as const)) {
      if (pushFeasible(world, i, sign)) {
        const direction = sign === 1 ? 'left' : 'right';
        const instruction = `push the ${c} block to the ${direction}`;
        return {
          family,
          target: i,
          direction,
          sign,
          instruction,
          variants: [instruction, `slide the ${c} block ${direction}`, `move the ${c} block to the ${direction} by pushing it`],
        };
      }
    }
  }
  return undefined;
}

function pushFeasible(world: SimWorld, i: number, sign: 1 | -1): boolean {
  const b = world.blocks[i]!;
  const [x, y] = b.pos;
  const y0 = y - sign * 0.05;
  const y1 = y + sign * (PUSH_TARGET_DISTANCE + 0.01);
  for (const z of [0.01, 0.09]) {
    for (const py of [y0, y, y1]) if (!reachableFromAbove([x, py, z])) return false;
  }
  // corridor clear of other blocks and the bowl
  const lo = Math.min(y0, y1 + sign * 0.02);
  const hi = Math.max(y0, y1 + sign * 0.02);
  const distToCorridor = (p: Vec3): number => {
    const cy = Math.min(hi, Math.max(lo, p[1]));
    return Math.hypot(p[0] - x, p[1] - cy);
  };
  for (let j = 0; j < world.blocks.length; j++) {
    if (j !== i && distToCorridor(world.blocks[j]!.pos) < 0.06) return false;
  }
  return distToCorridor(world.bowl.pos) >= 0.095;
}

/** The success predicate of each family, on the world's ground truth. */
export function isTaskSuccess(task: Task, world: SimWorld): boolean {
  const b = world.blocks[task.target];
  if (!b || b.state !== 'resting') return false;
  switch (task.family) {
    case 'pick_place': {
      const bowl = world.bowl;
      const r = Math.hypot(b.pos[0] - bowl.pos[0], b.pos[1] - bowl.pos[1]);
      return r <= bowl.innerRadius && b.pos[2] < bowl.height;
    }
    case 'push': {
      const start = world.initialBlocks[task.target];
      if (!start) return false;
      return (b.pos[1] - start[1]) * task.sign >= PUSH_SUCCESS_DISTANCE && b.pos[2] < b.size; // still on the table
    }
    case 'stack': {
      const base = world.blocks[task.base];
      if (!base || base.state !== 'resting') return false;
      const dxy = Math.hypot(b.pos[0] - base.pos[0], b.pos[1] - base.pos[1]);
      const dz = b.pos[2] - base.pos[2] - (b.size + base.size) / 2;
      return dxy <= base.size / 2 && Math.abs(dz) < 0.003 && base.pos[2] < base.size; // base on the table
    }
  }
}
