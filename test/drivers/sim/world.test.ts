import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BLOCK_COLORS,
  BLOCK_SIZE,
  SimWorld,
  TASK_FAMILIES,
  inverseKinematics,
  rollForYaw,
  type Block,
  type Vec3,
} from '../../../drivers/sim/index';

const close = (a: number, b: number, tol: number, msg?: string) => assert.ok(Math.abs(a - b) <= tol, `${msg ?? ''} ${a} vs ${b} (tol ${tol})`);

/** Joints with the fingertips at p, pointing down, jaws lined up with the block. */
function over(p: Vec3, yawDeg = 0, gripper = 0): number[] {
  const pan = (Math.atan2(p[1], p[0]) * 180) / Math.PI;
  const ik = inverseKinematics({ position: p, pitchDeg: 90, rollDeg: rollForYaw(pan, yawDeg), gripper });
  assert.ok(ik.reachable && ik.withinLimits, `can't reach ${p}`);
  return ik.joints;
}

function snapshot(w: SimWorld) {
  return JSON.stringify({ blocks: w.blocks, bowl: w.bowl, task: w.task, q: w.getPositions() });
}

test('layouts are deterministic per seed, vary across seeds, and are well formed', () => {
  assert.equal(snapshot(new SimWorld({ seed: 3 })), snapshot(new SimWorld({ seed: 3 })));
  const seen = new Set<string>();
  const families = new Set<string>();
  for (let seed = 0; seed < 40; seed++) {
    const w = new SimWorld({ seed });
    seen.add(snapshot(w));
    families.add(w.task.family);
    assert.ok(w.blocks.length >= 2 && w.blocks.length <= 4);
    assert.equal(new Set(w.blocks.map((b) => b.color)).size, w.blocks.length);
    for (const b of w.blocks) {
      assert.ok((BLOCK_COLORS as readonly string[]).includes(b.color));
      assert.equal(b.name, `${b.color} block`);
      assert.equal(b.state, 'resting');
      close(b.pos[2], BLOCK_SIZE / 2, 1e-12);
      assert.ok(Math.hypot(b.pos[0] - w.bowl.pos[0], b.pos[1] - w.bowl.pos[1]) > w.bowl.outerRadius + BLOCK_SIZE);
      for (const o of w.blocks) if (o !== b) assert.ok(Math.hypot(b.pos[0] - o.pos[0], b.pos[1] - o.pos[1]) > BLOCK_SIZE * 1.5);
    }
    assert.deepEqual(w.getPositions(), [0, 0, 0, 0, 0, 0]);
    assert.equal(w.isSuccess(), false);
  }
  assert.equal(seen.size, 40);
  assert.deepEqual([...families].sort(), [...TASK_FAMILIES].sort());
  for (const family of TASK_FAMILIES) assert.equal(new SimWorld({ seed: 11, family }).task.family, family);
});

test('canonical instructions', () => {
  for (let seed = 0; seed < 30; seed++) {
    for (const family of TASK_FAMILIES) {
      const w = new SimWorld({ seed, family });
      const t = w.task;
      const c = w.blocks[t.target]!.color;
      if (t.family === 'pick_place') assert.equal(t.instruction, `pick up the ${c} block and put it in the bowl`);
      if (t.family === 'push') assert.equal(t.instruction, `push the ${c} block to the ${t.direction}`);
      if (t.family === 'stack') assert.equal(t.instruction, `stack the ${c} block on the ${w.blocks[t.base]!.color} block`);
      assert.equal(t.variants[0], t.instruction);
    }
  }
});

test('reset replaces the layout and the arm pose', () => {
  const w = new SimWorld({ seed: 1, family: 'push' });
  w.setGoal([30, 10, 0, 0, 0, 50]);
  w.step(1000);
  w.reset({ seed: 2, family: 'stack' });
  assert.equal(snapshot(w), snapshot(new SimWorld({ seed: 2, family: 'stack' })));
  assert.equal(w.timeMs, 0);
});

test('servos move towards the goal at 180 deg/s (body) and 300 %/s (gripper), goals are clipped', () => {
  const w = new SimWorld({ seed: 1 });
  w.setGoal([90, -30, 0, 0, 0, 100]);
  w.step(100);
  const q = w.getPositions();
  close(q[0]!, 18, 1e-9);
  close(q[1]!, -18, 1e-9);
  close(q[5]!, 30, 1e-9);
  w.step(150);
  close(w.getPositions()[0]!, 45, 1e-9);
  close(w.getPositions()[1]!, -30, 1e-9); // arrived, stays
  w.step(250);
  assert.deepEqual(w.getPositions().map((v) => +v.toFixed(9)), [90, -30, 0, 0, 0, 100]);
  // one long step equals many short ones
  const a = new SimWorld({ seed: 1 });
  const b = new SimWorld({ seed: 1 });
  a.setGoal([-40, 20, 30, -20, 90, 70]);
  b.setGoal([-40, 20, 30, -20, 90, 70]);
  a.step(333);
  for (let i = 0; i < 333; i++) b.step(1);
  a.getPositions().forEach((v, i) => close(v, b.getPositions()[i]!, 1e-9));
  w.setGoal([500, -500, 0, 0, 0, 250]);
  assert.deepEqual(w.getGoal(), [110, -100, 0, 0, 0, 100]);
  assert.throws(() => w.setGoal([0, 0, 0]));
});

function setup(family: 'pick_place' | 'push' | 'stack', seed = 4) {
  const w = new SimWorld({ seed, family });
  const blk = w.blocks[w.task.target]!;
  return { w, blk };
}

function grasp(w: SimWorld, blk: Block): number[] {
  const down = over([blk.pos[0], blk.pos[1], 0.004], blk.yawDeg, 0);
  w.setPositions(down);
  w.setGoal([...down.slice(0, 5), 100]);
  w.step(500);
  return down;
}

test('closing on a block attaches it; it follows the gripper; opening drops it onto the table', () => {
  const { w, blk } = setup('pick_place');
  const start: Vec3 = [...blk.pos];
  grasp(w, blk);
  assert.equal(w.heldBlock(), blk);
  assert.equal(blk.state, 'held');
  assert.ok(w.getPositions()[5]! < 65, `jaws stall on the block (${w.getPositions()[5]})`);
  // lift and move sideways
  const p: Vec3 = [start[0] - 0.02, start[1] + 0.03, 0.1];
  w.setGoal([...over(p, blk.yawDeg).slice(0, 5), 100]);
  w.step(1500);
  assert.equal(w.heldBlock(), blk);
  close(blk.pos[2], 0.1 + 0.011, 0.004, 'carried at the tip');
  close(Math.hypot(blk.pos[0] - p[0], blk.pos[1] - p[1]), 0, 0.013, 'under the tip');
  // open: it falls and lands on the table
  w.setGoal([...w.getGoal().slice(0, 5), 0]);
  w.step(60);
  assert.equal(w.heldBlock(), undefined);
  assert.equal(blk.state, 'falling');
  w.step(1000);
  assert.equal(blk.state, 'resting');
  close(blk.pos[2], BLOCK_SIZE / 2, 1e-12);
  close(Math.hypot(blk.pos[0] - p[0], blk.pos[1] - p[1]), 0, 0.013);
});

test('closing with nothing between the jaws grasps nothing', () => {
  const { w, blk } = setup('pick_place');
  const q = over([blk.pos[0], blk.pos[1] + 0.06, 0.004], 0, 0);
  w.setPositions(q);
  w.setGoal([...q.slice(0, 5), 100]);
  w.step(500);
  assert.equal(w.heldBlock(), undefined);
  close(w.getPositions()[5]!, 100, 1e-9);
  // and a block above the jaws is not grasped either
  const { w: w2, blk: b2 } = setup('pick_place');
  const high = over([b2.pos[0], b2.pos[1], 0.06], b2.yawDeg, 0);
  w2.setPositions(high);
  w2.setGoal([...high.slice(0, 5), 100]);
  w2.step(500);
  assert.equal(w2.heldBlock(), undefined);
});

test('a block released over another rests on it; over the bowl it lands on the bowl floor', () => {
  const { w, blk } = setup('stack');
  const task = w.task;
  assert.equal(task.family, 'stack');
  if (task.family !== 'stack') return;
  const base = w.blocks[task.base]!;
  grasp(w, blk);
  // carry so the block's centre sits over the base
  const off: Vec3 = [blk.pos[0] - w.armPose().tip[0], blk.pos[1] - w.armPose().tip[1], 0];
  const above = over([base.pos[0] - off[0], base.pos[1] - off[1], 0.06], base.yawDeg);
  w.setGoal([...above.slice(0, 5), 100]);
  w.step(2000);
  assert.equal(w.isSuccess(), false, 'not while held');
  w.setGoal([...above.slice(0, 5), 0]);
  w.step(1000);
  assert.equal(blk.state, 'resting');
  close(blk.pos[2], base.pos[2] + BLOCK_SIZE, 1e-9);
  assert.equal(w.isSuccess(), true);

  const { w: w2, blk: b2 } = setup('pick_place', 9);
  grasp(w2, b2);
  const overBowl = over([w2.bowl.pos[0], w2.bowl.pos[1], 0.08], 0);
  w2.setGoal([...overBowl.slice(0, 5), 100]);
  w2.step(2000);
  w2.setGoal([...overBowl.slice(0, 5), 0]);
  w2.step(1000);
  close(b2.pos[2], w2.bowl.floor + BLOCK_SIZE / 2, 1e-9);
  assert.equal(w2.isSuccess(), true);
});

test('the closed jaws push a block they sweep through', () => {
  const { w, blk } = setup('push');
  const task = w.task;
  if (task.family !== 'push') assert.fail('push task');
  const s = task.sign;
  const y0 = blk.pos[1];
  const startTip: Vec3 = [blk.pos[0], y0 - s * 0.04, 0.008];
  const endTip: Vec3 = [blk.pos[0], y0 + s * 0.05, 0.008];
  w.setPositions(over(startTip, 0, 100));
  assert.equal(w.isSuccess(), false);
  // sweep in small steps (a straight line)
  for (let i = 1; i <= 45; i++) {
    const f = i / 45;
    const p: Vec3 = [startTip[0], startTip[1] + (endTip[1] - startTip[1]) * f, 0.008];
    w.setGoal(over(p, 0, 100));
    w.step(1000 / 30);
  }
  w.step(500);
  const moved = (blk.pos[1] - y0) * s;
  assert.ok(moved > 0.06, `pushed ${moved}`);
  assert.equal(blk.state, 'resting');
  assert.equal(w.isSuccess(), true);
});

test('success predicates: true and false cases for each family', () => {
  // pick_place
  {
    const { w, blk } = setup('pick_place');
    assert.equal(w.isSuccess(), false);
    blk.pos = [w.bowl.pos[0] + 0.01, w.bowl.pos[1], w.bowl.floor + BLOCK_SIZE / 2];
    assert.equal(w.isSuccess(), true);
    blk.pos = [w.bowl.pos[0] + 0.09, w.bowl.pos[1], BLOCK_SIZE / 2];
    assert.equal(w.isSuccess(), false, 'next to the bowl');
    // a different block in the bowl doesn't count
    const other = w.blocks.find((b) => b !== blk)!;
    other.pos = [w.bowl.pos[0], w.bowl.pos[1], w.bowl.floor + BLOCK_SIZE / 2];
    assert.equal(w.isSuccess(), false);
  }
  // push
  {
    const { w, blk } = setup('push');
    const t = w.task;
    if (t.family !== 'push') assert.fail('push task');
    const y0 = blk.pos[1];
    blk.pos = [blk.pos[0], y0 + t.sign * 0.06, blk.pos[2]];
    assert.equal(w.isSuccess(), true);
    blk.pos = [blk.pos[0], y0 - t.sign * 0.06, blk.pos[2]];
    assert.equal(w.isSuccess(), false, 'wrong way');
    blk.pos = [blk.pos[0], y0 + t.sign * 0.03, blk.pos[2]];
    assert.equal(w.isSuccess(), false, 'not far enough');
    blk.pos = [blk.pos[0], y0 + t.sign * 0.06, 0.1];
    blk.state = 'held';
    assert.equal(w.isSuccess(), false, 'lifted');
  }
  // stack
  {
    const { w, blk } = setup('stack');
    const t = w.task;
    if (t.family !== 'stack') assert.fail('stack task');
    const base = w.blocks[t.base]!;
    blk.pos = [base.pos[0] + 0.005, base.pos[1], base.pos[2] + BLOCK_SIZE];
    assert.equal(w.isSuccess(), true);
    blk.pos = [base.pos[0] + 0.035, base.pos[1], BLOCK_SIZE / 2];
    assert.equal(w.isSuccess(), false, 'beside it');
    // the other way round is not the task
    blk.pos = [base.pos[0], base.pos[1], BLOCK_SIZE / 2];
    base.pos = [blk.pos[0], blk.pos[1], BLOCK_SIZE * 1.5];
    assert.equal(w.isSuccess(), false, 'reversed');
  }
});
