import { test } from 'node:test';
import assert from 'node:assert/strict';
import { projectTipPath, TappedRunner } from '../../../main/services/ghost';
import { SimWorld, forwardKinematics, inverseKinematics, visibleObjects } from '../../../drivers/sim';
import { ReplayRunner } from '../../../main/services/replay';
import { ActionQueue } from '../../../models/chunking/actionQueue';

test("the tip path lands on the block the gripper is placed over, in the front camera's own boxes", () => {
  const world = new SimWorld({ seed: 5 });
  const W = 320;
  const H = 240;
  const boxes = visibleObjects(world, W, H);
  let checked = 0;
  for (const b of world.blocks) {
    // the jaws' tip at the block's centre (IK as the expert uses it; skip a pose it cannot reach)
    const ik = [90, 75, 60, 45].map((pitchDeg) => inverseKinematics({ position: [...b.pos], pitchDeg, rollDeg: 0, gripper: 0 })).find((r) => r.reachable && r.withinLimits);
    if (ik === undefined) continue;
    const tip = forwardKinematics(ik.joints).tip;
    if (Math.hypot(tip[0] - b.pos[0], tip[1] - b.pos[1], tip[2] - b.pos[2]) > 0.005) continue;
    checked++;
    const [p] = projectTipPath([ik.joints], W, H);
    assert.ok(p, 'tip behind the camera');
    const box = boxes.find((o) => o.name === b.name)!.box;
    const [x, y] = [p[0] * W, p[1] * H];
    assert.ok(x >= box[0] - 1 && x <= box[2] + 1 && y >= box[1] - 1 && y <= box[3] + 1, `${b.name}: tip at ${x.toFixed(1)},${y.toFixed(1)} outside ${box}`);
  }
  assert.ok(checked >= 1, 'no block within reach');
});

test('the tap remembers the policy goal of the last tick and forgets it on reset', () => {
  let n = 0;
  const t = new TappedRunner({ name: 'p', step: () => (n++ % 2 === 0 ? { goal: [n] } : undefined), reset: () => {}, stop: async () => {} });
  const obs = { timeMs: 0, state: [0], images: {}, task: '' };
  t.step(obs);
  assert.deepEqual(t.last, { tick: 0, goal: [1] });
  t.step(obs);
  assert.equal(t.last, undefined);
  t.step(obs);
  t.reset();
  assert.equal(t.last, undefined);
});

test('replay approaches the start pose at the approach speed before playing', () => {
  const actions = [
    [70, 0, 50],
    [71, 0, 50],
  ];
  const r = new ReplayRunner(actions, 3, { rateHz: 30, gripperIndex: 2, approachDegPerS: 30, approachPctPerS: 60 });
  const obs = { timeMs: 0, state: [0, 0, 0], images: {}, task: '' };
  const goals: number[][] = [];
  while (r.phase === 'approach' && goals.length < 1000) goals.push(r.step(obs)!.goal);
  // 70° at 30°/s = 2.33 s = 70 ticks; never more than 1° or 2 % a tick
  assert.equal(goals.length, 70);
  let prev = [0, 0, 0];
  for (const g of goals) {
    assert.ok(Math.abs(g[0]! - prev[0]!) <= 1 + 1e-9 && Math.abs(g[2]! - prev[2]!) <= 2 + 1e-9);
    prev = g;
  }
  assert.deepEqual(goals.at(-1), [70, 0, 50]);
  assert.deepEqual(r.step(obs)!.goal, [70, 0, 50]);
  assert.equal(r.phase, 'replay');
  assert.deepEqual(r.step(obs)!.goal, [71, 0, 50]);
  assert.equal(r.phase, 'done');
});

test('the action queue shows what it holds from a step on, with merge counts', () => {
  const q = new ActionQueue({ chunk: 4, refillFraction: 0.5, mode: 'temporal' });
  q.push(0, [[0], [1], [2], [3]], 0);
  q.push(2, [[20], [30], [40], [50]], 2);
  q.pop(1);
  const p = q.peek(2);
  assert.deepEqual(p.map((e) => e.step), [2, 3, 4, 5]);
  assert.deepEqual(p.map((e) => e.count), [2, 2, 1, 1]);
  assert.deepEqual(p[2]!.action, [40]);
});
