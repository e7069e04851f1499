/**
 * E-stop semantics and a lost operator through the session's API, as the renderer drives it, on the
 * simulated arm (servos that lag) under a fake clock:
 *  - releasing the e-stop lands in HOLD; motion resumes only on an explicit Hand back / Start;
 *  - Hand back during the e-stop is refused with a clear message, never remembered;
 *  - a client that disconnects mid-jog drops the arm to HOLD at its measured position.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleSession } from '../../main/services/session';
import type { SessionSnapshot, Telemetry } from '../../main/common/contract';
import type { Problem } from '../../main/common/types';
import { ManualClock } from '../helpers/fakes';

async function rig() {
  const clock = new ManualClock(0);
  const s = new ConsoleSession({ clock, seed: 4, cameraWidth: 64, cameraHeight: 48 });
  await s.robot.connect();
  const seen: { telemetry?: Telemetry; problems: Problem[] } = { problems: [] };
  const watcher = s.api.connect({
    sendEvent: (n, p) => {
      if (n === 'telemetry') seen.telemetry = p as Telemetry;
      if (n === 'problems') seen.problems = p as Problem[];
    },
    sendFrame: () => {},
  });
  const tick = async (n = 1) => {
    let r;
    for (let i = 0; i < n; i++) {
      clock.advance(1000 / 30);
      r = await s.loop.tick();
    }
    return r!;
  };
  return { s, clock, tick, watcher, seen };
}

const positions = async (s: ConsoleSession) => (await s.robot.readState()).positions;
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

test('releasing the e-stop leaves the arm in HOLD; the policy moves it again only after Hand back', async () => {
  const { s, tick, watcher, seen } = await rig();
  assert.ok((await watcher.invoke('policy.start', { policy: 'expert' })).ok);
  await tick(20);
  assert.equal(s.snapshot().source, 'policy');
  assert.equal(watcher.command('estop', { engaged: true }), undefined);
  await tick(2);
  // H during the e-stop: refused, with a message that says what to do
  const refused = watcher.command('handback', {});
  assert.equal(refused?.code, 'busy');
  assert.match(refused!.message, /e-stop is engaged/i);
  assert.match(refused!.message, /release/i);
  await tick(3);
  const held = await positions(s);
  assert.equal(watcher.command('estop', { engaged: false }), undefined);
  const snap: SessionSnapshot = s.snapshot();
  assert.equal(snap.estop, false);
  assert.equal(snap.source, 'hold');
  assert.equal(snap.latched, true);
  for (let i = 0; i < 90; i++) {
    const r = await tick();
    assert.equal(r.source, 'hold', `tick ${i} after the release: the arm must hold`);
  }
  const drift = maxDiff(await positions(s), held);
  assert.ok(drift < 1e-6, `the arm moved ${drift.toFixed(2)}° within 3 s of the release`);
  assert.equal(seen.telemetry?.latched, true, 'the console is told the arm is held until an explicit action');
  // the explicit action
  assert.equal(watcher.command('handback', {}), undefined);
  assert.equal(s.snapshot().latched, false);
  await tick(30);
  assert.equal(s.snapshot().source, 'policy');
  assert.ok(maxDiff(await positions(s), held) > 0.5, 'after Hand back the policy moves the arm');
});

test('a client that disconnects mid-jog drops the arm to HOLD at its measured position', async () => {
  const { s, tick, seen } = await rig();
  await tick(2);
  const jogger = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  // jog faster than the servo follows: the goal runs ahead of the arm (up to the lead bound)
  for (let t = 0; t < 6; t++) {
    for (let i = 0; i < 5; i++) assert.equal(jogger.command('jog', { joint: 'elbow_flex', delta: 10 }), undefined);
    await tick();
  }
  assert.equal(s.snapshot().source, 'operator');
  const goal = s.loop.lastGoal![2]!;
  const at = (await positions(s))[2]!;
  assert.ok(goal - at > 5, `the goal leads the arm (${(goal - at).toFixed(1)}°)`);
  jogger.close(); // the socket closed: the host calls this
  const r = await tick();
  assert.equal(r.source, 'hold');
  assert.deepEqual(r.action, r.observation.state, 'the hold commands the measured position');
  const stopAt = (await positions(s))[2]!;
  await tick(30);
  assert.ok(Math.abs((await positions(s))[2]! - stopAt) < 1e-6, 'the arm stays where it stopped');
  const snap = s.snapshot();
  assert.equal(snap.source, 'hold');
  assert.equal(s.loop.operatorInControl, false);
  assert.ok(seen.problems.some((p) => p.id === 'operator-lost' && /disconnected/.test(p.message)), 'the remaining consoles are told why');
  // another console takes over explicitly with a jog, and the notice clears
  const other = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  assert.equal(other.command('jog', { joint: 'elbow_flex', delta: -2 }), undefined);
  assert.equal((await tick()).source, 'operator');
  assert.ok(!s.snapshot().problems.some((p) => p.id === 'operator-lost'));
});

test('a client that only watched (never jogged) can go away without touching the arm', async () => {
  const { s, tick, watcher } = await rig();
  assert.ok((await watcher.invoke('policy.start', { policy: 'expert' })).ok);
  const viewer = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  await tick(5);
  viewer.close();
  assert.equal((await tick()).source, 'policy');
});
