import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptedExpert, SimRobot, SimWorld, TASK_FAMILIES, inverseKinematics, projectToFront, rollForYaw, type TaskFamily } from '../../../drivers/sim/index';

const FPS = 30;
const MAX_STEPS = 600;

interface Episode {
  success: boolean;
  steps: number;
  maxBodyStep: number;
  maxGripStep: number;
  maxLead: number;
  subtasks: string[];
  moves: Set<string>;
  doneBeforeSuccess: boolean;
}

function runEpisode(seed: number, family: TaskFamily): Episode {
  const world = new SimWorld({ seed, family });
  const expert = new ScriptedExpert(world, { fps: FPS });
  let prev = world.getGoal();
  const ep: Episode = { success: false, steps: 0, maxBodyStep: 0, maxGripStep: 0, maxLead: 0, subtasks: [], moves: new Set(), doneBeforeSuccess: false };
  for (let i = 0; i < MAX_STEPS; i++) {
    const { goal, annotation, done } = expert.act();
    assert.equal(goal.length, 6);
    const present = world.getPositions();
    for (let j = 0; j < 6; j++) {
      const d = Math.abs(goal[j]! - prev[j]!);
      if (j === 5) ep.maxGripStep = Math.max(ep.maxGripStep, d);
      else {
        ep.maxBodyStep = Math.max(ep.maxBodyStep, d);
        ep.maxLead = Math.max(ep.maxLead, Math.abs(goal[j]! - present[j]!));
      }
    }
    prev = goal;
    if (ep.subtasks.at(-1) !== annotation.subtask) ep.subtasks.push(annotation.subtask);
    ep.moves.add(annotation.move);
    if (done && !world.isSuccess()) ep.doneBeforeSuccess = true;
    if (done) {
      ep.success = true;
      ep.steps = i;
      break;
    }
    world.setGoal(goal);
    world.step(1000 / FPS);
  }
  return ep;
}

for (const family of TASK_FAMILIES) {
  test(`the expert solves ${family} from 20 seeds within ${MAX_STEPS} steps, in bounded joint steps`, () => {
    const failures: number[] = [];
    for (let seed = 100; seed < 120; seed++) {
      const ep = runEpisode(seed, family);
      if (!ep.success) failures.push(seed);
      assert.equal(ep.doneBeforeSuccess, false);
      assert.ok(ep.maxBodyStep <= 10, `seed ${seed}: body joint goal jumped ${ep.maxBodyStep} deg in one tick`);
      assert.ok(ep.maxGripStep <= 10, `seed ${seed}: gripper goal jumped ${ep.maxGripStep} in one tick`);
      assert.ok(ep.maxLead <= 10, `seed ${seed}: goal ran ${ep.maxLead} deg ahead of the arm`);
      if (ep.success) assert.ok(ep.subtasks.length >= 3, `seed ${seed}: subtasks ${ep.subtasks}`);
    }
    assert.deepEqual(failures, [], `failed seeds for ${family}`);
  });
}

test('annotations: plan, current subtask, move primitives, gripper, visible objects with boxes', () => {
  const world = new SimWorld({ seed: 5, family: 'pick_place' });
  const expert = new ScriptedExpert(world, { imageWidth: 224, imageHeight: 224 });
  const target = world.blocks[world.task.target]!;
  const first = expert.act();
  const c = target.color;
  assert.equal(first.annotation.task, `pick up the ${c} block and put it in the bowl`);
  assert.equal(first.annotation.plan, `1. move above ${c} block 2. grasp ${c} block 3. lift 4. move above bowl 5. release`);
  assert.equal(first.annotation.subtask, `move above ${c} block`);
  assert.equal(first.annotation.gripper, 'open');
  assert.match(first.annotation.move, /^(move( (forward|backward|left|right|up|down))+|rotate gripper|stop)$/);
  // every block and the bowl appear, with a box around their projected centre
  for (const b of world.blocks) {
    const m = first.annotation.visibleObjects.match(new RegExp(`${b.name} \\[(\\d+), (\\d+), (\\d+), (\\d+)\\]`));
    assert.ok(m, `${b.name} in ${first.annotation.visibleObjects}`);
    const [x0, y0, x1, y1] = m.slice(1).map(Number) as [number, number, number, number];
    const p = projectToFront(b.pos, 224, 224)!;
    assert.ok(x0 <= p[0] && p[0] <= x1 && y0 <= p[1] && p[1] <= y1);
    assert.ok(x1 - x0 >= 4 && x1 - x0 <= 40, `box width ${x1 - x0}`);
  }
  assert.match(first.annotation.visibleObjects, /bowl \[\d+, \d+, \d+, \d+\]/);
  const seen = new Map<string, Set<string>>();
  const grips = new Set<string>();
  for (let i = 0; i < MAX_STEPS; i++) {
    const s = expert.act();
    if (!seen.has(s.annotation.subtask)) seen.set(s.annotation.subtask, new Set());
    seen.get(s.annotation.subtask)!.add(s.annotation.move);
    grips.add(s.annotation.gripper);
    if (s.done) break;
    world.setGoal(s.goal);
    world.step(1000 / 30);
  }
  assert.ok(world.isSuccess());
  assert.deepEqual([...seen.keys()], [`move above ${c} block`, `grasp ${c} block`, 'lift', 'move above bowl', 'release']);
  assert.ok(seen.get(`grasp ${c} block`)!.has('move down'));
  assert.ok(seen.get(`grasp ${c} block`)!.has('close gripper'));
  assert.ok(seen.get('lift')!.has('move up'));
  assert.ok(seen.get('release')!.has('open gripper'));
  assert.deepEqual([...grips].sort(), ['close', 'open']);
});

test('push plan names the side to start from and the direction', () => {
  const world = new SimWorld({ seed: 8, family: 'push' });
  const t = world.task;
  if (t.family !== 'push') assert.fail('push');
  const a = new ScriptedExpert(world).act().annotation;
  const c = world.blocks[t.target]!.color;
  const side = t.direction === 'left' ? 'right' : 'left';
  assert.equal(a.plan, `1. move to the ${side} of ${c} block 2. lower gripper 3. push ${c} block ${t.direction} 4. lift`);
});

test('the expert recovers when the block is taken out of its jaws', () => {
  const world = new SimWorld({ seed: 21, family: 'pick_place' });
  const expert = new ScriptedExpert(world);
  let stolen = false;
  let done = false;
  for (let i = 0; i < 900 && !done; i++) {
    const s = expert.act();
    done = s.done;
    if (!stolen && world.heldBlock() && s.annotation.subtask === 'move above bowl') {
      // an operator knocks it out: force a release by opening the jaws for a moment
      world.setGoal([...world.getPositions().slice(0, 5), 0]);
      world.step(200);
      assert.equal(world.heldBlock(), undefined);
      stolen = true;
      continue;
    }
    world.setGoal(s.goal);
    world.step(1000 / 30);
  }
  assert.ok(stolen);
  assert.ok(done && world.isSuccess());
});

test('driven through SimRobot on a fake 30 Hz clock the expert still succeeds', async () => {
  let now = 1000;
  const world = new SimWorld({ seed: 42, family: 'stack' });
  const robot = new SimRobot(world, () => now);
  await robot.connect();
  const expert = new ScriptedExpert(world);
  let done = false;
  for (let i = 0; i < MAX_STEPS && !done; i++) {
    await robot.readState();
    const s = expert.act();
    done = s.done;
    await robot.writeGoal(s.goal);
    now += 1000 / 30;
  }
  assert.ok(done);
});

test('the expert picks up from wherever an operator left the arm, without lunging', () => {
  const world = new SimWorld({ seed: 33, family: 'stack' });
  const expert = new ScriptedExpert(world);
  let done = false;
  let maxLead = 0;
  for (let i = 0; i < 900 && !done; i++) {
    if (i === 60) {
      // an operator takes over and drives the arm somewhere else, then hands back
      world.setGoal([-50, 10, 20, -30, 40, 0]);
      world.step(1500);
      if (world.heldBlock()) {
        world.setGoal([...world.getPositions().slice(0, 5), 0]);
        world.step(500);
      }
    }
    const present = world.getPositions();
    const s = expert.act();
    for (let j = 0; j < 5; j++) maxLead = Math.max(maxLead, Math.abs(s.goal[j]! - present[j]!));
    done = s.done;
    world.setGoal(s.goal);
    world.step(1000 / 30);
  }
  assert.ok(done && world.isSuccess());
  assert.ok(maxLead <= 10, `lead ${maxLead}`);
});

for (const family of TASK_FAMILIES) {
  test(`${family}: handed back in the middle of a carry, or holding the wrong block, the expert still finishes`, () => {
    for (const seed of [50, 51, 52]) {
      const world = new SimWorld({ seed, family });
      const expert = new ScriptedExpert(world);
      // an operator grasps a block (the target for pick/stack, another one for push) and lifts it away
      const idx = family === 'push' ? world.blocks.findIndex((_, i) => i !== world.task.target) : world.task.target;
      const b = world.blocks[idx]!;
      const pan = (Math.atan2(b.pos[1], b.pos[0]) * 180) / Math.PI;
      const down = inverseKinematics({ position: [b.pos[0], b.pos[1], 0.004], pitchDeg: 90, rollDeg: rollForYaw(pan, b.yawDeg) }).joints;
      world.setPositions(down);
      world.setGoal([...down.slice(0, 5), 100]);
      world.step(500);
      assert.equal(world.heldBlockIndex(), idx);
      world.setGoal([...inverseKinematics({ position: [0.15, -0.05, 0.12], pitchDeg: 90 }).joints.slice(0, 5), 100]);
      world.step(1500);
      let done = false;
      for (let i = 0; i < MAX_STEPS && !done; i++) {
        const s = expert.act();
        done = s.done;
        world.setGoal(s.goal);
        world.step(1000 / 30);
      }
      assert.ok(done && world.isSuccess(), `${family} seed ${seed}`);
    }
  });
}
