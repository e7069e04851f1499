import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCamera, SimRobot, SimWorld } from '../../../drivers/sim/index';

function fakeClock(start = 5000) {
  const c = { now: start };
  return { c, clock: () => c.now, sleep: async (ms: number) => void (c.now += ms) };
}

test('SimRobot: contract basics, clipped goals, motion follows the clock', async () => {
  const { c, clock } = fakeClock();
  const world = new SimWorld({ seed: 1 });
  const robot = new SimRobot(world, clock);
  assert.equal(robot.type, 'sim_so101');
  assert.deepEqual(robot.joints.map((j) => j.name), ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper']);
  assert.deepEqual(robot.joints.map((j) => j.unit), ['deg', 'deg', 'deg', 'deg', 'deg', 'percent']);
  assert.equal(robot.isConnected, false);
  await assert.rejects(robot.readState());
  await robot.connect();
  const sent = await robot.writeGoal([200, 0, 0, 0, 0, 150]);
  assert.deepEqual(sent, [110, 0, 0, 0, 0, 100]);
  await assert.rejects(robot.writeGoal([1, 2, 3]));
  c.now += 100;
  const s = await robot.readState();
  assert.equal(s.timeMs, c.now);
  assert.ok(Math.abs(s.positions[0]! - 18) < 1e-9, `${s.positions[0]}`);
  assert.ok(Math.abs(s.positions[5]! - 30) < 1e-9);
  c.now += 1000;
  const s2 = await robot.readState();
  assert.ok(Math.abs(s2.positions[0]! - 110) < 1e-9);
  assert.ok(Math.abs(s2.positions[5]! - 100) < 1e-9);
  // reading twice at the same time doesn't move anything
  assert.deepEqual((await robot.readState()).positions, s2.positions);
});

test('SimRobot: torque off leaves the arm where it is; torque on holds, it does not jump', async () => {
  const { c, clock } = fakeClock();
  const world = new SimWorld({ seed: 1 });
  const robot = new SimRobot(world, clock);
  await robot.connect();
  await robot.writeGoal([90, 0, 0, 0, 0, 0]);
  c.now += 100;
  await robot.setTorque(false);
  const held = (await robot.readState()).positions;
  assert.ok(Math.abs(held[0]! - 18) < 1e-9);
  assert.deepEqual(await robot.writeGoal([-50, 0, 0, 0, 0, 0]), [-50, 0, 0, 0, 0, 0]);
  c.now += 500;
  assert.deepEqual((await robot.readState()).positions, held);
  await robot.setTorque(true);
  c.now += 500;
  assert.deepEqual((await robot.readState()).positions, held);
  await robot.writeGoal([-50, 0, 0, 0, 0, 0]);
  c.now += 100;
  assert.ok(Math.abs((await robot.readState()).positions[0]! - 0) < 1e-9);
  await robot.disconnect();
  assert.equal(robot.isConnected, false);
  assert.equal(robot.torqueEnabled, false);
});

test('SimRobot: a long stall is not simulated in one go', async () => {
  const { c, clock } = fakeClock();
  const world = new SimWorld({ seed: 1 });
  const robot = new SimRobot(world, clock);
  await robot.connect();
  c.now += 60_000;
  await robot.readState();
  assert.equal(world.timeMs, 1000);
});

test('SimCamera: renders lazily at most once per frame period and counts drops', async () => {
  const { c, clock } = fakeClock();
  const world = new SimWorld({ seed: 2 });
  const cam = new SimCamera(world, 'front', { width: 224, height: 224, fps: 30 }, clock);
  assert.equal(cam.readLatest(), undefined, 'not connected');
  await cam.connect();
  const f1 = cam.readLatest()!;
  assert.equal(f1.seq, 1);
  assert.equal(f1.width, 224);
  assert.equal(f1.data.length, 224 * 224 * 3);
  assert.equal(f1.captureTimeMs, c.now);
  c.now += 20;
  assert.equal(cam.readLatest(), f1, 'cached within the period');
  assert.equal(cam.readLatest(10), undefined, 'older than maxAgeMs');
  c.now += 20;
  const f2 = cam.readLatest()!;
  assert.equal(f2.seq, 2);
  assert.ok(Buffer.from(f2.data).equals(Buffer.from(f1.data)), 'nothing moved');
  world.setGoal([60, 20, 0, 0, 0, 0]);
  world.step(500);
  c.now += 200; // six periods: five frames nobody read
  const f3 = cam.readLatest()!;
  assert.equal(f3.seq, 3);
  assert.ok(!Buffer.from(f3.data).equals(Buffer.from(f2.data)));
  assert.deepEqual(cam.stats(), { frames: 3, dropped: 5 });
  await cam.disconnect();
  assert.equal(cam.readLatest(), undefined);
});

test('SimCamera: nextFrame waits for a newer frame on the injected clock, and times out', async () => {
  const { c, clock, sleep } = fakeClock();
  const world = new SimWorld({ seed: 2 });
  const cam = new SimCamera(world, 'wrist', { width: 64, height: 48, fps: 10 }, clock, { sleep });
  await assert.rejects(cam.nextFrame(100));
  await cam.connect();
  const a = await cam.nextFrame(1000);
  const t0 = c.now;
  const b = await cam.nextFrame(1000);
  assert.equal(b.seq, a.seq + 1);
  assert.ok(b.captureTimeMs - a.captureTimeMs >= 100 - 1e-9);
  assert.ok(c.now - t0 >= 100 - 1e-9 && c.now - t0 < 101);
  await assert.rejects(cam.nextFrame(30), /no new frame/);
  assert.throws(() => new SimCamera(world, 'top', { width: 64, height: 48, fps: 10 }, clock));
  assert.throws(() => new SimCamera(world, 'front', { width: 8, height: 8, fps: 10 }, clock));
});

test('SimCamera on the world clock: one new frame per control tick, none dropped', () => {
  const world = new SimWorld({ seed: 4 });
  const cam = new SimCamera(world, 'front', { width: 32, height: 24, fps: 30 }, () => world.timeMs);
  void cam.connect();
  for (let i = 0; i < 300; i++) {
    assert.equal(cam.readLatest()!.seq, i + 1);
    world.step(1000 / 30);
  }
  assert.deepEqual(cam.stats(), { frames: 300, dropped: 0 });
});
