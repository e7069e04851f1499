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
