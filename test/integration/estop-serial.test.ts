/**
 * The e-stop against the serial servo emulator (Feetech STS3215 byte for byte over a real pty):
 * servos that move at a speed limit (2048 ticks/s = 180°/s), a bus with real latency, the loop ticked
 * in real time at 30 Hz. A policy sweeps shoulder_pan at 300°/s, faster than the servo follows; after
 * the e-stop the servo's measured motion must stop with the first e-stop tick (this emulated servo
 * has no deceleration ramp, so "one tick plus the servo's own deceleration" is one tick here).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SerialTransport } from '../../drivers/transport/SerialTransport';
import { createSoFollower } from '../../drivers/robots/so101/so101';
import { ControlLoop } from '../../main/control/loop';
import type { PolicyRunner } from '../../main/control/types';
import { ServoEmulator, openPtyPair, socatAvailable, type ServoChain } from '../fakes/servo-emulator';

const SKIP = socatAvailable() ? false : 'socat is not installed (apt-get install socat)';
const RATE = 30;
const SPEED_TICKS = 2048; // 180°/s
const DEG_PER_TICK = 360 / 4096;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cal = Object.fromEntries(
  ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'].map((n, i) => [
    n,
    { id: i + 1, drive_mode: 0, homing_offset: 0, range_min: n === 'wrist_roll' ? 0 : 1047, range_max: n === 'wrist_roll' ? 4095 : 3047 },
  ]),
);

async function emulated(t: TestContext): Promise<{ port: string; chain: ServoChain }> {
  const pty = await openPtyPair();
  // shoulder_pan starts near −80° (2047 − 910 ticks) so the sweep has room
  const emu = new ServoEmulator({ path: pty.device, protocol: 'feetech', servos: [1, 2, 3, 4, 5, 6].map((id) => ({ id, model: 'sts3215', position: id === 1 ? 1137 : 2047 })), speedTicksPerS: SPEED_TICKS });
  await emu.start();
  t.after(async () => {
    await emu.stop();
    await pty.close();
  });
  return { port: pty.host, chain: emu.chain };
}

test('e-stop stops the emulated serial arm with the first e-stop tick while the goal runs ahead', { skip: SKIP, timeout: 30_000 }, async (t) => {
  const { port, chain } = await emulated(t);
  const robot = createSoFollower('so101_follower', { id: 'estop', transport: new SerialTransport({ path: port }), calibration: cal, bus: { latencyMarginMs: 40 } });
  t.after(() => robot.disconnect().catch(() => undefined));
  await robot.connect();
  const clock = { nowMs: () => performance.now() };
  const loop = new ControlLoop({ robot, cameras: [], clock, rateHz: RATE, watchdog: { maxTickGapMs: 2000, maxStateAgeMs: 2000 } });
  const start = (await robot.readState()).positions;
  let t0: number | undefined;
  const sweep: PolicyRunner = {
    name: 'sweep',
    step: (o) => {
      t0 ??= o.timeMs;
      return { goal: start.map((v, i) => (i === 0 ? v + ((o.timeMs - t0!) / 1000) * 300 : v)) };
    },
    reset: () => {},
    stop: async () => {},
  };
  loop.setPolicy(sweep);
  let next = performance.now();
  const tick = async () => {
    next += 1000 / RATE;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    return loop.tick();
  };
  for (let i = 0; i < 10; i++) await tick();
  const lead = loop.lastGoal![0]! - (await robot.readState()).positions[0]!;
  t.diagnostic(`goal ahead of the arm by ${lead.toFixed(1)}° when the e-stop is engaged`);
  // Sample the servo's physical position and its Goal_Position register (address 42) every 2 ms from the
  // e-stop on: an excursion that comes back must count, and we see when the first e-stop goal lands.
  const samples: { ms: number; deg: number; goal: number }[] = [];
  const sample = () => samples.push({ ms: performance.now(), deg: chain.position(1) * DEG_PER_TICK, goal: chain.register(1, 42, 2) });
  const sampler = setInterval(sample, 2);
  const engageMs = performance.now();
  const atEngage = chain.position(1) * DEG_PER_TICK;
  const goalBefore = chain.register(1, 42, 2);
  loop.setEstop(true);
  let firstDoneMs = 0;
  let first;
  try {
    first = await tick();
    assert.equal(first.source, 'estop');
    firstDoneMs = performance.now();
    for (let i = 0; i < 15; i++) {
      const r = await tick();
      assert.equal(r.source, 'estop');
      // every e-stop tick sends the same hold (the first tick's measured position): no stepping back toward it
      assert.ok(Math.abs(r.action[0]! - first.action[0]!) < 1e-9, `e-stop tick ${i + 2} sent ${r.action[0]!.toFixed(2)}°, the first sent ${first.action[0]!.toFixed(2)}°`);
    }
    await sleep(200);
  } finally {
    clearInterval(sampler);
  }
  sample();
  // the first e-stop tick commands the measured position (not a goal stepped back from where the arm was sent)
  assert.ok(Math.abs(first.action[0]! - first.observation.state[0]!) < 1e-9, `first e-stop goal ${first.action[0]!.toFixed(1)}° vs measured ${first.observation.state[0]!.toFixed(1)}°`);
  // The e-stop goal is the last goal the servo receives (every e-stop tick sends the same latched
  // hold): it has landed from the first sample after which the register never changes again. (Under
  // load, the last goal of the tick before the e-stop can itself land after the engage: taking the
  // first change would judge the servo by a goal that was not the e-stop's.)
  const finalGoal = samples.at(-1)!.goal;
  let landedAt = samples.length - 1;
  while (landedAt > 0 && samples[landedAt - 1]!.goal === finalGoal) landedAt--;
  const landed = finalGoal !== goalBefore || landedAt > 0 ? samples[landedAt] : undefined;
  assert.ok(landed, 'the e-stop goal reached the servo');
  const overrun = Math.max(...samples.map((x) => Math.abs(x.deg - atEngage)));
  const settled = samples.filter((x) => x.ms >= landed.ms);
  // Once the hold lands, the servo goes (back) to it: the hold is where the arm was measured at the
  // first e-stop tick's read, and the servo kept moving until the goal landed, so it may return that
  // far, always toward where it comes to rest, and never further out.
  const rest = settled.at(-1)!.deg;
  const drift = Math.max(...settled.map((x) => Math.abs(x.deg - settled[0]!.deg)));
  const awayFromRest = settled.reduce((worst, x, i) => (i === 0 ? 0 : Math.max(worst, Math.abs(x.deg - rest) - Math.abs(settled[i - 1]!.deg - rest))), 0);
  const lastMove = samples.reduce((ms, x, i) => (i > 0 && Math.abs(x.deg - samples[i - 1]!.deg) > 1e-9 ? x.ms : ms), engageMs);
  // Until the first e-stop tick's goal lands, the servo may keep moving at its speed (plus one sampling period).
  const allowed = (180 * (landed.ms - engageMs + 2)) / 1000 + DEG_PER_TICK;
  const what = `after the e-stop the servo moved up to ${overrun.toFixed(1)}° from where it was and stopped moving ${(lastMove - engageMs).toFixed(0)} ms later (first e-stop tick done after ${(firstDoneMs - engageMs).toFixed(0)} ms, its goal landed after ${(landed.ms - engageMs).toFixed(0)} ms; allowed ${allowed.toFixed(1)}°)`;
  t.diagnostic(what);
  assert.ok(overrun <= allowed, what);
  assert.ok(drift <= allowed, `${what}; after the e-stop goal landed the servo still moved ${drift.toFixed(1)}° (more than it could have travelled before the goal landed)`);
  assert.ok(awayFromRest <= DEG_PER_TICK + 1e-9, `${what}; after the e-stop goal landed the servo moved ${awayFromRest.toFixed(2)}° away from where it came to rest`);
  assert.ok(Math.abs(samples.at(-1)!.deg - samples.at(-2)!.deg) < 1e-9 || samples.at(-1)!.ms - lastMove > 100, `${what}; the servo is still moving 200 ms after the e-stop`);
});
