/**
 * The session through its API (as the renderer uses it), with the loop ticked by hand under a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleSession } from '../../../main/services/session';
import { forwardKinematics } from '../../../drivers/sim';
import { ManualClock } from '../../helpers/fakes';
import type { SessionSnapshot } from '../../../main/common/contract';

async function rig() {
  const clock = new ManualClock(0);
  const s = new ConsoleSession({ clock, seed: 4, cameraWidth: 224, cameraHeight: 224 });
  await s.robot.connect();
  const events: string[] = [];
  const conn = s.api.connect({ sendEvent: (n) => void events.push(n), sendFrame: () => {} });
  const tick = async (n = 1) => {
    for (let i = 0; i < n; i++) {
      clock.advance(1000 / 30);
      await s.loop.tick();
    }
  };
  return { s, conn, tick, events, clock };
}

test('start the expert, e-stop, release, stop — as the renderer does', async () => {
  const { s, conn, tick } = await rig();
  const r = await conn.invoke('policy.start', { policy: 'expert' });
  assert.ok(r.ok);
  await tick(10);
  assert.equal(s.snapshot().source, 'policy');
  assert.equal(conn.command('estop', { engaged: true }), undefined);
  await tick();
  assert.equal(s.snapshot().source, 'estop');
  const refused = await conn.invoke('policy.start', { policy: 'expert' });
  assert.ok(!refused.ok && refused.error.code === 'busy');
  conn.command('estop', { engaged: false });
  assert.ok((await conn.invoke('policy.stop', {})).ok);
  assert.equal(s.snapshot().policy.running, false);
});

test('an unknown policy and a joint the robot lacks are clear errors', async () => {
  const { conn } = await rig();
  const r = await conn.invoke('policy.start', { policy: 'no-such-bundle' });
  assert.ok(!r.ok && r.error.code === 'not_found');
  const e = conn.command('jog', { joint: 'knee', delta: 1 });
  assert.equal(e?.code, 'bad_request');
  assert.match(e!.message, /shoulder_pan/);
});

test('a Cartesian jog moves the gripper tip along the axis', async () => {
  const { s, conn, tick } = await rig();
  await tick(3);
  const before = forwardKinematics(s.loop.lastGoal!).tip;
  assert.equal(conn.command('jogCartesian', { axis: 'z', deltaM: 0.02 }), undefined);
  await tick(30);
  const after = forwardKinematics(s.loop.lastGoal!).tip;
  assert.ok(Math.abs(after[2] - before[2] - 0.02) < 0.002, `z moved ${after[2] - before[2]}`);
  assert.ok(Math.abs(after[0] - before[0]) < 0.002 && Math.abs(after[1] - before[1]) < 0.002);
  assert.equal(s.snapshot().source, 'operator');
});

test('nothing the renderer sends moves the arm outside the clamp', async () => {
  const { s, conn, clock } = await rig();
  let prev = (await s.robot.readState()).positions;
  const lim = s.robot.joints[2]!;
  for (let t = 0; t < 120; t++) {
    for (let i = 0; i < 5; i++) conn.command('jog', { joint: 'elbow_flex', delta: 20 });
    clock.advance(1000 / 30);
    const r = await s.loop.tick();
    for (let j = 0; j < r.action.length; j++) assert.ok(Math.abs(r.action[j]! - prev[j]!) <= 300 / 30 + 1e-9, `tick ${t} joint ${j} jumped`);
    assert.ok(r.action[2]! <= lim.max && r.action[2]! >= lim.min);
    prev = r.action;
  }
  assert.equal(prev[2], lim.max); // it got there, one bounded step at a time
});

test('a scene reset changes the task and the arm is not yanked', async () => {
  const { s, conn, tick } = await rig();
  await tick(2);
  const r = await conn.invoke('sim.reset', { seed: 9, family: 'stack' });
  assert.ok(r.ok);
  const snap = r.value as SessionSnapshot;
  assert.equal(snap.sim?.family, 'stack');
  assert.match(snap.sim!.instruction, /^stack the/);
  const rep = await s.loop.tick();
  assert.equal(rep.clamped, false);
});
