/**
 * A compact, transferable snapshot of what the renderer needs from a SimWorld (bowl, blocks, arm
 * joint positions), and a world-like view that SimRenderer can draw from. Used to render the
 * simulated cameras off the control loop's thread (SimCameraWorker).
 *
 * Layout (Float64Array, 15 + 6 * blocks numbers, ~ 250 bytes for 4 blocks):
 *   [0] layout id (changes on every reset; keys the renderer's static-scene cache)
 *   [1] block count n
 *   [2..8] bowl: pos x, y, z, outerRadius, innerRadius, height, floor
 *   [9..14] present joint positions (deg; gripper %)
 *   then per block: colour index (BLOCK_COLORS), pos x, y, z, yawDeg, size
 */
import { forwardKinematics, type ArmPose } from './kinematics';
import { BLOCK_COLORS, type Block, type Bowl, type SimWorld } from './world';

const HEADER = 15;
const PER_BLOCK = 6;

const layoutIds = new WeakMap<Bowl, number>();
let nextLayoutId = 1;

/** Numbers a snapshot of this world takes. */
export function snapshotLength(world: SimWorld): number {
  return HEADER + PER_BLOCK * world.blocks.length;
}

/** Writes the world's render state into out (reallocated when too small) and returns the filled view. */
export function encodeWorldSnapshot(world: SimWorld, out?: Float64Array): Float64Array {
  const len = snapshotLength(world);
  const s = out && out.length >= len ? out.subarray(0, len) : new Float64Array(len);
  const bw = world.bowl;
  let id = layoutIds.get(bw);
  if (id === undefined) {
    id = nextLayoutId++;
    layoutIds.set(bw, id); // the bowl object is new on every reset
  }
  s[0] = id;
  s[1] = world.blocks.length;
  s[2] = bw.pos[0];
  s[3] = bw.pos[1];
  s[4] = bw.pos[2];
  s[5] = bw.outerRadius;
  s[6] = bw.innerRadius;
  s[7] = bw.height;
  s[8] = bw.floor;
  const q = world.getPositions();
  for (let i = 0; i < 6; i++) s[9 + i] = q[i] ?? 0;
  let o = HEADER;
  for (const b of world.blocks) {
    s[o] = BLOCK_COLORS.indexOf(b.color);
    s[o + 1] = b.pos[0];
    s[o + 2] = b.pos[1];
    s[o + 3] = b.pos[2];
    s[o + 4] = b.yawDeg;
    s[o + 5] = b.size;
    o += PER_BLOCK;
  }
  return s;
}

/**
 * The renderer's view of a decoded snapshot: `bowl`, `blocks`, `armPose()` (what SimRenderer reads).
 * The bowl object keeps its identity while the layout id is unchanged, so the renderer's
 * per-layout caches stay valid across snapshots.
 */
export class SnapshotScene {
  layoutId = -1;
  bowl: Bowl = { pos: [0, 0, 0], outerRadius: 0, innerRadius: 0, height: 0, floor: 0 };
  blocks: Block[] = [];
  private present: number[] = [0, 0, 0, 0, 0, 0];
  private pose: ArmPose | undefined;

  apply(s: Float64Array): this {
    const id = s[0]!;
    if (id !== this.layoutId) {
      this.layoutId = id;
      this.bowl = { pos: [s[2]!, s[3]!, s[4]!], outerRadius: s[5]!, innerRadius: s[6]!, height: s[7]!, floor: s[8]! };
    }
    let moved = false;
    for (let i = 0; i < 6; i++) {
      if (this.present[i] !== s[9 + i]) {
        this.present[i] = s[9 + i]!;
        moved = true;
      }
    }
    if (moved) this.pose = undefined;
    const n = s[1]!;
    if (this.blocks.length !== n) this.blocks.length = n;
    let o = HEADER;
    for (let i = 0; i < n; i++) {
      const color = BLOCK_COLORS[s[o]!];
      if (!color) throw new Error(`SnapshotScene: bad colour index ${s[o]}`);
      const b = (this.blocks[i] ??= { color, name: `${color} block`, pos: [0, 0, 0], yawDeg: 0, size: 0, state: 'resting', vz: 0 });
      if (b.color !== color) {
        b.color = color;
        b.name = `${color} block`;
      }
      b.pos = [s[o + 1]!, s[o + 2]!, s[o + 3]!];
      b.yawDeg = s[o + 4]!;
      b.size = s[o + 5]!;
      o += PER_BLOCK;
    }
    return this;
  }

  armPose(): ArmPose {
    this.pose ??= forwardKinematics(this.present);
    return this.pose;
  }

  /** For SimRenderer, which is typed against SimWorld but reads only bowl, blocks and armPose(). */
  asWorld(): SimWorld {
    return this as unknown as SimWorld;
  }
}
