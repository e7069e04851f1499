/**
 * For check_colour_perm.py: renders held-out simulator scenes (32×32, front and wrist, 40 expert
 * ticks in) twice — as they are, and with every block's colour replaced by PERM[colour] — and
 * writes the pairs as raw RGB to OUT. The colour-permutation augmentation of train_demo.py must turn
 * the first of each pair into the second.
 *
 *   npx tsx models/train/render_permuted.ts OUT PERM(e.g. 2,3,0,5,1,4)
 */
import { writeFileSync } from 'node:fs';
import { BLOCK_COLORS, ScriptedExpert, SimRenderer, SimWorld } from '../../drivers/sim';

const [out, permArg] = process.argv.slice(2);
if (out === undefined || permArg === undefined) throw new Error('usage: render_permuted.ts OUT PERM');
const perm = permArg.split(',').map(Number);
if (perm.length !== BLOCK_COLORS.length || new Set(perm).size !== perm.length) throw new Error(`PERM must be a permutation of 0..${BLOCK_COLORS.length - 1}`);
const frames: Buffer[] = [];
for (const seed of [1_000_001, 1_000_002, 1_000_003, 1_000_004]) {
  const world = new SimWorld({ seed, family: 'pick_place' });
  const expert = new ScriptedExpert(world, { imageWidth: 32, imageHeight: 32 });
  for (let t = 0; t < 40; t++) {
    world.setGoal(expert.act().goal);
    world.step(1000 / 30);
  }
  for (const key of ['front', 'wrist'] as const) {
    frames.push(Buffer.from(new SimRenderer(32, 32).render(world, key)));
    const saved = world.blocks.map((b) => b.color);
    for (const b of world.blocks) b.color = BLOCK_COLORS[perm[BLOCK_COLORS.indexOf(b.color)]!]!;
    frames.push(Buffer.from(new SimRenderer(32, 32).render(world, key)));
    world.blocks.forEach((b, i) => (b.color = saved[i]!));
  }
}
writeFileSync(out, Buffer.concat(frames));
