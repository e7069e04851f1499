/**
 * Diagnosis: runs one simulator episode with a VLA bundle (every chunk applied on the next tick,
 * greedy, full reasoning) and prints, every 10 ticks and on every invalid chunk, the policy's
 * VISIBLE OBJECTS next to the ground-truth boxes, its SUBTASK / MOVE / GRIPPER, the state and the
 * chunk's first goal — to see where a policy goes wrong (wrong block, parked arm, no grasp).
 *
 *   npx tsx bench/trace-episode.ts [BUNDLE=models/bundles/demo] [SEED=1000000] [FAMILY=pick_place] [TICKS=450]
 */
import { SimCamera, SimWorld, SO101_JOINTS, type TaskFamily } from '../drivers/sim';
import { visibleObjects } from '../drivers/sim/render';
import { openPolicy } from '../models/policies/open';
import type { RgbFrame } from '../models/policies/preprocess';

const bundle = process.argv[2] ?? 'models/bundles/demo';
const seed = Number(process.argv[3] ?? 1_000_000);
const family = (process.argv[4] ?? 'pick_place') as TaskFamily;
const maxTicks = Number(process.argv[5] ?? 450);

const policy = await openPolicy(bundle, { robotJoints: [...SO101_JOINTS], session: { intraOpNumThreads: 1 } });
const world = new SimWorld({ seed, family });
const cams = policy.manifest.inputs.cameras.map((c) => new SimCamera(world, c.key as 'front' | 'wrist', { width: c.width, height: c.height, fps: 30 }, () => world.timeMs));
for (const c of cams) await c.connect();
const front = policy.manifest.inputs.cameras.find((c) => c.key === 'front');
console.log(`${bundle}, seed ${seed}: "${world.task.instruction}"`);
const f0 = (xs: readonly number[] | undefined): string => (xs === undefined ? '-' : xs.map((x) => x.toFixed(0)).join(','));
let queue: number[][] = [];
let t = 0;
for (; t < maxTicks && !world.isSuccess(); t++) {
  if (queue.length <= Math.floor(policy.manifest.action.chunk / 2)) {
    const images: Record<string, RgbFrame> = {};
    for (const c of cams) {
      const f = c.readLatest()!;
      images[c.key] = { data: f.data, width: f.width, height: f.height };
    }
    const r = await policy.infer({ state: world.getPositions(), images, instruction: world.task.instruction }, { speculative: false, relaxedR: 0, planCache: false, reasoning: true });
    if (t % 10 === 0 || !r.valid) {
      const gt = front === undefined ? '' : visibleObjects(world, front.width, front.height).map((o) => `${o.name} ${o.box.join(' ')}`).join(', ');
      console.log(`t=${t} valid=${r.valid} held=${world.heldBlockIndex()} state=${f0(world.getPositions())} goal0=${f0(r.chunk[0])}`);
      console.log(`   VISIBLE OBJECTS: ${r.fields['VISIBLE OBJECTS'] ?? '-'}   | truth: ${gt}`);
      console.log(`   SUBTASK: ${r.fields.SUBTASK ?? '-'} | MOVE: ${r.fields.MOVE ?? '-'} | GRIPPER: ${r.fields.GRIPPER ?? '-'}`);
    }
    if (r.valid) queue = r.chunk.slice();
  }
  const a = queue.shift();
  if (a !== undefined) world.setGoal(a);
  world.step(1000 / 30);
}
console.log(world.isSuccess() ? `success after ${t} ticks` : `not solved in ${t} ticks`);
await policy.dispose();
