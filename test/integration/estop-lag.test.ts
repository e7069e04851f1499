/**
 * The e-stop and every hold against a robot whose servos LAG (the simulator's servo dynamics:
 * 180°/s, no deceleration ramp), not an ideal fake that reaches every goal at once. A policy that
 * asks for motion faster than the servos follow winds the goal up ahead of the arm; the e-stop must
 * still stop the arm within one tick (the tick in which it was engaged), and no goal may ever lead the
 * measured position by more than the bounded tracking error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimRobot, SimWorld } from '../../drivers/sim';
import { MAX_SPEED } from '../../drivers/sim/world';
import { ControlLoop } from '../../main/control/loop';
import type { PolicyRunner } from '../../main/control/types';
import { ManualClock } from '../helpers/fakes';

const RATE = 30;
const DT = 1000 / RATE;
/** How far a sim servo moves in one tick (degrees). */
const SERVO_PER_TICK = MAX_SPEED[0] / RATE;

/** A policy that sweeps shoulder_pan at 300°/s (faster than the 180°/s servo), as a runaway policy or a fast jog would. */
function sweeping(start: number[]): PolicyRunner {
  let t0: number | undefined;
  return {
    name: 'sweep',
    step: (o) => {
      t0 ??= o.timeMs;
      const g = [...start];
      g[0] = start[0]! - 100 + ((o.timeMs - t0) / 1000) * 300;
      return { goal: g };
    },
    reset: () => {},
    stop: async () => {},
  };
}

async function rig(opts: { maxLead?: number[] } = {}) {
  const clock = new ManualClock(0);
  const world = new SimWorld({ seed: 3, family: 'pick_place' });
  const robot = new SimRobot(world, () => clock.nowMs());
  const problems: string[] = [];
  const loop = new ControlLoop({ robot, cameras: [], clock, rateHz: RATE, ...opts, onProblem: (p) => void ('message' in p ? problems.push(p.id) : undefined) });
  await robot.connect();
  const home = (await robot.readState()).positions;
  // start from the far side so the sweep has room
  world.setGoal(home.map((v, i) => (i === 0 ? -100 : v)));
  world.step(2000);
  loop.resync();
  loop.setPolicy(sweeping(home.map((v, i) => (i === 0 ? 0 : v))));
  const tick = async () => {
    clock.advance(DT);
    return loop.tick();
  };
  return { clock, world, robot, loop, tick, problems };
}

test('e-stop stops a lagging arm within one tick, however far the goal ran ahead', async () => {
  const { world, loop, tick, clock } = await rig();
  for (let i = 0; i < 15; i++) await tick();
  // The e-stop arrives between two ticks: the arm may still move until the next tick commands its measured position.
  const atEngage = world.getPositions()[0]!;
  loop.setEstop(true);
  const trace: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await tick();
    assert.equal(r.source, 'estop');
    trace.push(world.getPositions()[0]!);
  }
  // run the physics on for a while with no ticks: a goal left ahead would keep pulling the arm
  clock.advance(500);
  await loop.robot.readState();
  trace.push(world.getPositions()[0]!);
  const overrun = Math.max(...trace.map((p) => Math.abs(p - atEngage)));
  // ticks after the engaging one in which the arm still moved
  const movingTicks = trace.slice(0, 20).filter((p, i) => Math.abs(p - (i === 0 ? atEngage : trace[i - 1]!)) > 1e-9).length;
  const what = `the arm moved ${overrun.toFixed(1)}° after the e-stop, over ${movingTicks} ticks (${((movingTicks * 1000) / RATE).toFixed(0)} ms)`;
  assert.ok(overrun <= SERVO_PER_TICK + 1e-6, `${what}; allowed: one tick of servo motion, ${SERVO_PER_TICK}°`);
  assert.ok(movingTicks <= 1, what);
});

test('a watchdog hold (stalled loop) commands the measured position, not a rate-limited stale goal', async () => {
  const { world, loop, tick, clock } = await rig();
  for (let i = 0; i < 15; i++) await tick();
  clock.advance(200); // the process froze for 200 ms: the arm kept moving toward the last goal meanwhile
  await loop.robot.readState();
  const atStall = world.getPositions()[0]!;
  const r = await loop.tick();
  assert.equal(r.source, 'hold');
  assert.ok(r.watchdog.includes('tick'));
  assert.ok(Math.abs(r.action[0]! - atStall) < 1e-9, `hold sent ${r.action[0]!.toFixed(1)}°, the arm is at ${atStall.toFixed(1)}°`);
  clock.advance(300);
  await loop.robot.readState();
  assert.ok(Math.abs(world.getPositions()[0]! - atStall) < 1e-9, 'the arm stays where the hold found it');
});

test('no goal ever leads the measured position by more than the tracking bound', async () => {
  const { tick, loop } = await rig();
  let worst = 0;
  for (let i = 0; i < 30; i++) {
    const r = await tick();
    worst = Math.max(worst, Math.abs(r.action[0]! - r.observation.state[0]!));
  }
  // "a few ticks of servo motion": at most 5 ticks of the servo's speed
  assert.ok(worst <= 5 * SERVO_PER_TICK + 1e-9, `the goal led the arm by ${worst.toFixed(1)}° (a few ticks of servo motion is ${5 * SERVO_PER_TICK}°)`);
  const bound = (loop as unknown as { maxLead: number[] }).maxLead[0]!;
  assert.ok(worst <= bound + 1e-9, `the goal led the arm by ${worst.toFixed(1)}° (bound ${bound}°)`);
});

test('the tracking bound is configurable', async () => {
  const { tick } = await rig({ maxLead: [3, 3, 3, 3, 3, 1000] });
  let worst = 0;
  for (let i = 0; i < 20; i++) {
    const r = await tick();
    worst = Math.max(worst, Math.abs(r.action[0]! - r.observation.state[0]!));
  }
  assert.ok(worst <= 3 + 1e-9, `lead ${worst}`);
});
