import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlLoop } from '../../../main/control/loop';
import type { PolicyRunner, StepRecord } from '../../../main/control/types';
import { FakeRobot, ManualClock, SIX_JOINTS } from '../../helpers/fakes';

function setup(policyGoal?: (t: number) => number[] | undefined) {
  const clock = new ManualClock(1000);
  const robot = new FakeRobot(SIX_JOINTS, clock);
  const problems: string[] = [];
  const loop = new ControlLoop({ robot, cameras: [], clock, rateHz: 30, onProblem: (p) => void ('message' in p ? problems.push(p.id) : undefined) });
  const steps: StepRecord[] = [];
  loop.addSink({ onStep: (s) => steps.push(s) });
  let resets = 0;
  if (policyGoal) {
    const p: PolicyRunner = { name: 'test', step: (o) => { const g = policyGoal(o.timeMs); return g ? { goal: g } : undefined; }, reset: () => void resets++, stop: async () => {} };
    loop.setPolicy(p);
  }
  const tick = async () => {
    clock.advance(1000 / 30);
    return loop.tick();
  };
  return { clock, robot, loop, steps, problems, tick, resets: () => resets };
}

test('the policy drives the arm through the clamp', async () => {
  const { tick, robot } = setup(() => [100, 0, 0, 0, 0, 50]);
  const r = await tick();
  assert.equal(r.source, 'policy');
  assert.equal(r.clamped, true); // 100 deg away: cut to 10 deg per tick at 30 Hz
  assert.deepEqual(robot.writes[0], [10, 0, 0, 0, 0, 50]);
});

test('e-stop holds within one tick, whatever the policy asks', async () => {
  const { tick, loop, robot } = setup((t) => [Math.sin(t) * 50, 0, 0, 0, 0, 50]);
  await tick();
  await tick();
  const before = [...robot.positions];
  loop.setEstop(true);
  const r = await tick();
  assert.equal(r.source, 'estop');
  assert.deepEqual(r.action, before);
  for (let i = 0; i < 5; i++) assert.deepEqual((await tick()).action, before);
});

test('a jog takes over at once, moves the named joint, and handback returns to the policy', async () => {
  const { tick, loop, resets } = setup(() => [0, 0, 0, 0, 0, 50]);
  await tick();
  loop.operator.jog(1, 5);
  const r = await tick();
  assert.equal(r.source, 'operator');
  assert.equal(r.intervention, true);
  assert.equal(r.action[1], 5);
  const r2 = await tick(); // no new input: the operator keeps control and the goal holds
  assert.equal(r2.source, 'operator');
  assert.equal(r2.action[1], 5);
  loop.handback();
  assert.equal(resets(), 1);
  const r3 = await tick();
  assert.equal(r3.source, 'policy');
});

test('a stale robot state trips the watchdog and the arm holds', async () => {
  const { tick, robot, problems } = setup(() => [50, 0, 0, 0, 0, 50]);
  await tick();
  const held = [...robot.positions];
  robot.stateAgeMs = 500;
  const r = await tick();
  assert.equal(r.source, 'hold');
  assert.deepEqual(r.watchdog, ['state']);
  assert.deepEqual(r.action, held);
  assert.ok(problems.includes('watchdog-state'));
});

test('a stalled tick (the process froze) holds instead of sending a stale command', async () => {
  const { tick, clock, loop } = setup(() => [50, 0, 0, 0, 0, 50]);
  await tick();
  clock.advance(1000);
  const r = await loop.tick();
  assert.equal(r.source, 'hold');
  assert.ok(r.watchdog.includes('tick'));
});

test('a policy that throws raises a problem and the arm holds', async () => {
  const { tick, problems } = setup(() => {
    throw new Error('bundle exploded');
  });
  const r = await tick();
  assert.equal(r.source, 'hold');
  assert.ok(problems.includes('policy-error'));
});

test('every step carries the observation and exactly what was sent', async () => {
  const { tick, steps, robot } = setup(() => [3, 0, 0, 0, 0, 50]);
  await tick();
  await tick();
  assert.equal(steps.length, 2);
  assert.deepEqual(steps[1]!.action, robot.writes[1]);
  assert.equal(steps[1]!.tick, 1);
});

test('releasing the e-stop leaves the arm in HOLD: no policy motion, no replay of jogs pressed during the e-stop', async () => {
  const { tick, loop, robot } = setup(() => [40, 0, 0, 0, 0, 50]);
  for (let i = 0; i < 2; i++) await tick();
  loop.setEstop(true);
  await tick();
  loop.operator.jog(1, 5); // pressed during the e-stop: dropped
  const held = (await tick()).action;
  assert.throws(() => loop.handback(), (e: Error & { code?: string }) => e.code === 'busy' && /e-stop is engaged/.test(e.message));
  loop.setEstop(false);
  assert.equal(loop.latched, true);
  for (let i = 0; i < 10; i++) {
    const r = await tick();
    assert.equal(r.source, 'hold', `tick ${i} after the release`);
    assert.deepEqual(r.action, held);
  }
  assert.deepEqual(robot.positions, held);
  loop.handback(); // the explicit resume
  assert.equal(loop.latched, false);
  assert.equal((await tick()).source, 'policy');
});

test('after a release, a jog is an explicit action: the operator moves the arm from where it holds', async () => {
  const { tick, loop } = setup(() => [40, 0, 0, 0, 0, 50]);
  for (let i = 0; i < 2; i++) await tick();
  loop.setEstop(true);
  const held = (await tick()).action;
  loop.setEstop(false);
  await tick();
  loop.operator.jog(1, 5);
  const r = await tick();
  assert.equal(r.source, 'operator');
  assert.deepEqual(r.action, held.map((v, i) => (i === 1 ? v + 5 : v)));
});

test('a teleop stream that goes stale while it has control drops the operator to a latched HOLD at the measured position', async () => {
  const { tick, loop, clock, problems } = setup(() => [0, 0, 0, 0, 0, 50]);
  let live = true;
  loop.operator.teleop = {
    name: 'leader',
    streaming: true,
    poll: (now) => (live ? { command: { kind: 'absolute', positions: [30, 0, 0, 0, 0, 50] }, timeMs: now } : undefined),
  };
  assert.equal((await tick()).source, 'operator');
  live = false;
  let r = await tick();
  for (let i = 0; i < 10 && !problems.includes('operator-lost'); i++) r = await tick();
  assert.ok(problems.includes('operator-lost'), 'the operator is told the stream was lost');
  assert.equal(loop.operatorInControl, false);
  assert.equal(loop.latched, true);
  const at = r.observation.state;
  assert.deepEqual(r.action, at);
  live = true; // the stream comes back by itself: it does not take the arm again, nor does the policy
  for (let i = 0; i < 5; i++) assert.equal((await tick()).source, 'hold');
  void clock;
  loop.handback();
  assert.equal((await tick()).source, 'operator', 'after Hand back the leader drives again');
});

test('a joint pinned at its limit is reported once, not every tick, and cleared once free', async () => {
  const clock = new ManualClock(1000);
  const robot = new FakeRobot(SIX_JOINTS, clock);
  const raised: string[] = [];
  const cleared: string[] = [];
  const loop = new ControlLoop({ robot, cameras: [], clock, rateHz: 30, onProblem: (p) => void ('cleared' in p ? cleared.push(p.id) : raised.push(p.id)) });
  let goal = 150;
  loop.setPolicy({ name: 'p', step: () => ({ goal: [goal, 0, 0, 0, 0, 50] }), reset: () => {}, stop: async () => {} });
  const tick = async () => {
    clock.advance(1000 / 30);
    return loop.tick();
  };
  for (let i = 0; i < 60; i++) {
    goal = i % 2 === 0 ? 99 : 150; // flapping at the limit
    await tick();
  }
  assert.equal(robot.positions[0], 100);
  assert.deepEqual(raised.filter((id) => id.startsWith('limit:')), ['limit:shoulder_pan']);
  goal = 50;
  for (let i = 0; i < 90; i++) await tick();
  assert.deepEqual(cleared.filter((id) => id.startsWith('limit:')), ['limit:shoulder_pan']);
});

test('e-stop keeps a squeezing gripper\'s grip (its jaws blocked by an object) and stops a gripper still closing', async () => {
  // A gripper closing on an object: the policy asks 90 (closed), the jaws stop at 60 on the object.
  const blocked = setup(() => [0, 0, 0, 0, 0, 90]);
  const realWrite = blocked.robot.writeGoal.bind(blocked.robot);
  blocked.robot.writeGoal = async (g) => {
    const sent = await realWrite(g);
    blocked.robot.positions[5] = Math.min(sent[5]!, 60); // the object stops the jaws at 60
    return sent;
  };
  for (let i = 0; i < 12; i++) await blocked.tick();
  assert.equal(blocked.robot.positions[5], 60);
  const squeeze = blocked.robot.writes.at(-1)![5]!;
  assert.ok(squeeze > 60, 'the goal leads the blocked jaws (that is the grip force)');
  blocked.loop.setEstop(true);
  for (let i = 0; i < 5; i++) {
    const r = await blocked.tick();
    assert.equal(r.source, 'estop');
    assert.equal(blocked.robot.writes.at(-1)![5], squeeze, 'the e-stop keeps the squeeze: holding 60 would drop the object');
  }
  assert.equal(blocked.robot.positions[5], 60, 'and the jaws do not move');

  // A gripper still closing freely (moving this tick): the e-stop stops it where it is.
  const free = setup(() => [0, 0, 0, 0, 0, 90]);
  const realFree = free.robot.writeGoal.bind(free.robot);
  free.robot.writeGoal = async (g) => {
    const before = free.robot.positions[5]!;
    const sent = await realFree(g);
    free.robot.positions[5] = before + Math.min(3, sent[5]! - before); // a slow servo: 3 units a tick
    return sent;
  };
  free.robot.positions[5] = 10;
  for (let i = 0; i < 4; i++) await free.tick();
  const moving = free.robot.positions[5]!;
  assert.ok(moving < 60, 'still closing');
  free.loop.setEstop(true);
  await free.tick();
  assert.equal(free.robot.writes.at(-1)![5], moving, 'a moving gripper is held at its measured position');
});
