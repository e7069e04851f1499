// Followers over a pty: LeRobot's runtime configuration lands in the servos, goals are clamped
// to the calibrated range and to the max relative step, e-stop holds with torque on.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SerialTransport } from '../../../drivers/transport/SerialTransport';
import { createSoFollower } from '../../../drivers/robots/so101/so101';
import { createKochFollower, createKochLeader } from '../../../drivers/robots/koch/koch';
import { ServoEmulator, openPtyPair, socatAvailable, type ServoChain } from '../../fakes/servo-emulator';

const SKIP = socatAvailable() ? false : 'socat is not installed';
const BUS = { latencyMarginMs: 40 }; // pty + in-process emulator on a shared machine
const cal = (full: string[]) =>
  Object.fromEntries(
    ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'].map((n, i) => [
      n,
      { id: i + 1, drive_mode: 0, homing_offset: 0, range_min: full.includes(n) ? 0 : 1047, range_max: full.includes(n) ? 4095 : 3047 },
    ]),
  );

async function chain(t: TestContext, protocol: 'feetech' | 'dynamixel', models: string[]): Promise<{ port: string; chain: ServoChain }> {
  const pty = await openPtyPair();
  const emu = new ServoEmulator({ path: pty.device, protocol, servos: models.map((model, i) => ({ id: i + 1, model, position: 2047 })), speedTicksPerS: Infinity });
  await emu.start();
  t.after(async () => {
    await emu.stop();
    await pty.close();
  });
  return { port: pty.host, chain: emu.chain };
}

test('SO-101 follower: configure, clamp to range, max relative step, e-stop hold', { skip: SKIP }, async (t) => {
  const { port, chain: c } = await chain(t, 'feetech', Array(6).fill('sts3215'));
  const robot = createSoFollower('so101_follower', { id: 'x', transport: new SerialTransport({ path: port }), calibration: cal(['wrist_roll']), bus: BUS, maxRelativeTarget: 10 });
  t.after(() => robot.disconnect().catch(() => undefined));
  await robot.connect();
  assert.equal(robot.calibrationStatus, 'written');
  // LeRobot SO follower configuration (spec §1.5, §3.4)
  assert.deepEqual([c.register(1, 21, 1), c.register(1, 23, 1), c.register(1, 22, 1)], [16, 0, 32]);
  assert.equal(c.register(6, 16, 2), 500);
  assert.equal(c.register(6, 28, 2), 250);
  assert.equal(c.register(6, 36, 1), 25);
  assert.equal(c.register(3, 7, 1), 0);
  assert.equal(c.register(3, 18, 1) & 0x10, 0, 'Phase bit 4 cleared');
  assert.equal(c.torque(1), true);
  // Range 1047..3047 → ±87.9°; the present pose reads 0°.
  const s = await robot.readState();
  assert.ok(s.positions.slice(0, 5).every((v) => Math.abs(v) < 0.1));
  const sent = await robot.writeGoal([50, -200, 5, 0, 0, 100]);
  assert.deepEqual(sent.slice(0, 3), [10, -10, 5], 'capped to ±10° from the last read');
  assert.equal(sent[5], 60, 'gripper 50 % + 10 step cap');
  robot.maxRelativeTarget = undefined;
  const wide = await robot.writeGoal([500, -500, 0, 0, 0, -5]);
  assert.ok(Math.abs(wide[0]! - (1000 * 360) / 4095) < 1e-9 && Math.abs(wide[1]! + (1000 * 360) / 4095) < 1e-9);
  assert.equal(wide[5], 0);
  await robot.readState(); // a round trip: the SYNC_WRITE (no reply) has been applied
  assert.equal(c.register(1, 42, 2), 3047);
  await assert.rejects(robot.writeGoal([1, 2, 3]), RangeError);
  const held = await robot.holdPosition();
  assert.equal(held.length, 6);
  assert.equal(c.torque(2), true, 'e-stop keeps torque on');
  await robot.disconnect();
  assert.equal(c.torque(2), false, 'disconnect turns torque off');
});

test('Koch follower and leader: operating modes, elbow gains, leader gripper as a spring trigger', { skip: SKIP }, async (t) => {
  const f = await chain(t, 'dynamixel', ['xl430-w250', 'xl430-w250', 'xl330-m288', 'xl330-m288', 'xl330-m288', 'xl330-m288']);
  const l = await chain(t, 'dynamixel', Array(6).fill('xl330-m077'));
  const follower = createKochFollower({ id: 'k', transport: new SerialTransport({ path: f.port }), calibration: cal(['shoulder_pan', 'wrist_roll']), bus: BUS });
  const leader = createKochLeader({ id: 'k', transport: new SerialTransport({ path: l.port }), calibration: cal(['shoulder_pan', 'wrist_roll']), bus: BUS });
  t.after(async () => {
    await follower.disconnect().catch(() => undefined);
    await leader.disconnect().catch(() => undefined);
  });
  await follower.connect();
  await leader.connect();
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((id) => f.chain.register(id, 11, 1)), [4, 4, 4, 4, 4, 5]);
  assert.deepEqual([f.chain.register(3, 84, 2), f.chain.register(3, 82, 2), f.chain.register(3, 80, 2)], [1500, 0, 600]);
  assert.equal(l.chain.torque(6), true, 'leader gripper torque on');
  assert.equal(l.chain.torque(1), false, 'leader body limp');
  assert.equal(l.chain.register(6, 116, 4), 2047, 'leader gripper goal = 50 % of its range');
  const pos = await leader.readPositions();
  assert.equal(pos.length, 6);
  assert.ok(Math.abs(pos[5]! - 50) < 0.1);
  await leader.disconnect();
  assert.equal(l.chain.torque(6), false, 'leader gripper released on disconnect');
  await follower.disconnect();
});
