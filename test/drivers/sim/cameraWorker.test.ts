/**
 * SimCameraWorker: the simulated cameras rendered in a worker thread from world snapshots.
 * No assertions on speed; waits use generous timeouts (the worker compiles TS through tsx on start).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptedExpert, SimCameraWorker, SimRenderer, SimWorld, SnapshotScene, encodeWorldSnapshot, type SimCameraKey } from '../../../drivers/sim/index';
import type { Frame } from '../../../drivers/cameras/Camera';

const W = 96;
const H = 72;
const WAIT = 15_000;

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function makeRig(world: SimWorld, onError?: (e: Error) => void) {
  return new SimCameraWorker(
    world,
    [
      { key: 'front', width: W, height: H, fps: 30 },
      { key: 'wrist', width: W, height: H, fps: 30 },
    ],
    { onError },
  );
}

/** Waits for a frame captured at or after t. */
async function frameAfter(rig: SimCameraWorker, key: SimCameraKey, t: number): Promise<Frame> {
  const cam = rig.camera(key)!;
  for (;;) {
    const f = await cam.nextFrame(WAIT);
    if (f.captureTimeMs >= t) return f;
  }
}

function midTaskWorld(): SimWorld {
  const world = new SimWorld({ seed: 5, family: 'pick_place' });
  const expert = new ScriptedExpert(world);
  for (let i = 0; i < 400 && !world.heldBlock(); i++) {
    const s = expert.act();
    if (s.done) break;
    world.setGoal(s.goal);
    world.step(1000 / 30);
  }
  return world;
}

test('a snapshot renders byte-for-byte like the world it was taken from (both cameras, block held)', () => {
  const world = midTaskWorld();
  assert.ok(world.heldBlock(), 'the expert should have grasped a block');
  const snap = encodeWorldSnapshot(world);
  assert.ok(snap.byteLength < 400, `snapshot is ${snap.byteLength} bytes`);
  const scene = new SnapshotScene().apply(snap);
  for (const key of ['front', 'wrist'] as const) {
    assert.ok(same(new SimRenderer(W, H).render(scene.asWorld(), key), new SimRenderer(W, H).render(world, key)), key);
  }
  // a reset is a new layout: the scene's bowl (the renderer's static-cache key) is replaced
  const bowl = scene.bowl;
  scene.apply(encodeWorldSnapshot(world));
  assert.equal(scene.bowl, bowl);
  world.reset({ seed: 6 });
  scene.apply(encodeWorldSnapshot(world));
  assert.notEqual(scene.bowl, bowl);
  assert.ok(same(new SimRenderer(W, H).render(scene.asWorld(), 'front'), new SimRenderer(W, H).render(world, 'front')));
});

test('frames arrive from the worker, match the synchronous renderer, and follow the arm', async () => {
  const world = midTaskWorld();
  const rig = makeRig(world);
  const [front, wrist] = rig.cameras;
  assert.equal(front!.readLatest(), undefined); // not connected
  await front!.connect();
  await wrist!.connect();
  try {
    assert.equal(front!.isConnected, true);
    // connect doesn't wait for a frame and readLatest never renders: nothing yet
    assert.equal(front!.readLatest(), undefined);
    assert.equal(wrist!.readLatest(), undefined);

    const f1 = await front!.nextFrame(WAIT);
    const w1 = await wrist!.nextFrame(WAIT);
    assert.equal(f1.data.length, W * H * 3);
    assert.deepEqual([f1.width, f1.height], [W, H]);
    assert.ok(same(f1.data, new SimRenderer(W, H).render(world, 'front')));
    assert.ok(same(w1.data, new SimRenderer(W, H).render(world, 'wrist')));
    // readLatest returns the newest arrival without waiting
    const latest = front!.readLatest();
    assert.ok(latest && latest.seq >= f1.seq);
    // nextFrame resolves on the next arrival
    const f2 = await front!.nextFrame(WAIT);
    assert.ok(f2.seq > f1.seq && f2.captureTimeMs > f1.captureTimeMs);
    assert.ok(f1.data.length === W * H * 3, 'a frame handed out stays intact');

    // move the arm: frames captured afterwards show it
    const q = world.getPositions();
    world.setPositions([q[0]! + 30, q[1]! - 10, q[2]!, q[3]! + 15, q[4]!, q[5]!]);
    const t = performance.now();
    const f3 = await frameAfter(rig, 'front', t);
    const w3 = await frameAfter(rig, 'wrist', t);
    assert.ok(!same(f3.data, f1.data), 'front frame should change when the arm moves');
    assert.ok(!same(w3.data, w1.data), 'wrist frame should change when the arm moves');
    assert.ok(same(f3.data, new SimRenderer(W, H).render(world, 'front')));
    assert.ok(same(w3.data, new SimRenderer(W, H).render(world, 'wrist')));
    assert.equal(f1.data.length, W * H * 3, 'earlier frames are not recycled under their readers');

    // maxAgeMs: a frame is never younger than -1 ms
    assert.equal(front!.readLatest(-1), undefined);
    const s = front!.stats();
    assert.ok(s.frames >= 3 && s.dropped >= 0);
  } finally {
    await front!.disconnect();
    await wrist!.disconnect();
  }
});

test('disconnect stops the worker; pending waits reject; connect starts it again', async () => {
  const rig = makeRig(new SimWorld({ seed: 2 }));
  const [front, wrist] = rig.cameras;
  await front!.connect();
  await wrist!.connect();
  await front!.nextFrame(WAIT);
  await wrist!.disconnect();
  assert.equal(rig.running, true, 'one camera still connected');
  const pending = front!.nextFrame(WAIT);
  const pendingCheck = assert.rejects(pending, /disconnected/);
  await front!.disconnect();
  await pendingCheck;
  assert.equal(rig.running, false);
  assert.equal(front!.isConnected, false);
  assert.equal(front!.readLatest(), undefined);
  await assert.rejects(front!.nextFrame(10), /not connected/);
  const frames = front!.stats().frames;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(front!.stats().frames, frames, 'no frames after disconnect');

  await front!.connect();
  assert.equal(rig.running, true);
  assert.ok((await front!.nextFrame(WAIT)).seq > frames);
  await front!.disconnect();
  assert.equal(rig.running, false);
});

test('a crashed worker is reported, and the cameras stop serving instead of freezing', async () => {
  const errors: Error[] = [];
  const rig = makeRig(new SimWorld({ seed: 3 }), (e) => errors.push(e));
  const [front, wrist] = rig.cameras;
  await front!.connect();
  await wrist!.connect();
  await front!.nextFrame(WAIT);
  // a reader waiting on frames is woken with the error (frames in flight may still land first)
  const waiting = (async () => {
    for (let i = 0; i < 1000; i++) await wrist!.nextFrame(WAIT);
  })().then(
    () => assert.fail('the waits should have been rejected'),
    (e: Error) => assert.match(e.message, /renderer exploded/),
  );
  const reported = new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (errors.length > 0) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
  rig.crashForTest('renderer exploded');
  await reported;
  await waiting;
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /Simulated cameras stopped: renderer exploded/);
  assert.equal(rig.lastError, errors[0]);
  assert.equal(rig.running, false);
  for (const c of [front!, wrist!]) {
    assert.equal(c.isConnected, false);
    assert.equal(c.readLatest(), undefined);
    assert.equal(c.lastError, errors[0]);
    await assert.rejects(c.nextFrame(10), /renderer exploded/);
  }
  // reconnecting starts a fresh worker
  await front!.connect();
  assert.ok(await front!.nextFrame(WAIT));
  assert.equal(rig.lastError, undefined);
  await front!.disconnect();
  assert.equal(errors.length, 1);
});
