/**
 * Remote policies end to end against a real server process (test/fakes/openpi-server/server.py,
 * Python msgpack + websockets): the console's loop drives the simulated arm from the demo policy
 * served remotely to task success, and every network fault holds the arm, names its cause,
 * reconnects with backoff and resumes only on hand-back. Nothing the server sends moves the arm
 * outside the clamp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeServer } from '../../fakes/openpi-server';
import { demoRemoteManifest, freePort, makeRig, until, type Rig } from './remoteRig';
import type { RemoteRunner } from '../../../main/services/remote';

type Emitted = { id: string; severity?: string; message?: string; tip?: string; cleared?: true };
function problems(runner: RemoteRunner): Emitted[] {
  const out: Emitted[] = [];
  runner.on('problem', (p) => out.push(p as Emitted));
  return out;
}
const lastOf = (ps: Emitted[], id = 'remote-policy'): Emitted | undefined => ps.filter((p) => p.id === id).at(-1);

/** Ticks until the runner leaves 'running' (a fault), checking every sent goal against the clamp. */
async function runUntilFault(rig: Rig, maxTicks: number): Promise<number> {
  const lim = rig.robot.joints;
  let prev: number[] | undefined;
  for (let t = 0; t < maxTicks; t++) {
    const r = await rig.step();
    r.action.forEach((v, j) => {
      assert.ok(Number.isFinite(v) && v >= lim[j]!.min - 1e-9 && v <= lim[j]!.max + 1e-9, `joint ${j} sent ${v}`);
      if (prev !== undefined) assert.ok(Math.abs(v - prev[j]!) <= 300 / 30 + 1e-9, `joint ${j} jumped ${v - prev[j]!}`);
    });
    prev = r.action;
    if (rig.runner.state !== 'running') return t;
  }
  throw new Error('no fault');
}

/** After a fault: the arm holds (no policy action) while reconnecting and after, until hand-back. */
async function holdsUntilHandback(rig: Rig): Promise<void> {
  await until(() => rig.runner.state === 'awaiting_handback', 8000, 'reconnect');
  for (let i = 0; i < 10; i++) {
    const r = await rig.step();
    assert.notEqual(r.source, 'policy', 'the policy moved the arm before hand-back');
  }
  rig.loop.handback();
  assert.equal(rig.runner.state, 'running');
  let acted = false;
  for (let i = 0; i < 10 && !acted; i++) acted = (await rig.step()).source === 'policy';
  assert.ok(acted, 'the policy did not resume after hand-back');
}

test('the demo policy served by the Python server drives the simulated arm to task success through the loop', async () => {
  const srv = await startFakeServer(['--policy', 'demo']);
  try {
    const rig = await makeRig(demoRemoteManifest(srv.url), { seed: 1_000_003, family: 'push' });
    const timings: { roundTripMs: number; serverMs?: number; networkMs?: number; delayTicks: number; bytesSent: number }[] = [];
    rig.runner.on('timing', (t) => timings.push(t));
    assert.equal(await rig.runner.start(), true);
    let ok = false;
    let acted = 0;
    for (let t = 0; t < 450 && !ok; t++) {
      if ((await rig.step()).source === 'policy') acted++;
      ok = rig.world.isSuccess();
    }
    assert.ok(ok, `push not solved (policy acted on ${acted} ticks, ${timings.length} chunks)`);
    assert.ok(timings.length >= 5);
    const t = timings.at(-1)!;
    assert.ok(t.serverMs !== undefined && t.serverMs > 0 && t.networkMs !== undefined && t.networkMs >= 0 && t.roundTripMs >= t.serverMs);
    assert.equal(t.delayTicks, 1);
    // 2 × 32×32×3 uint8 + 6 float32 + prompt + keys
    assert.ok(t.bytesSent > 6144 && t.bytesSent < 6600, `request is ${t.bytesSent} bytes`);
    await rig.runner.stop();
  } finally {
    await srv.stop();
  }
});

test('server down at start: the arm holds, the problem names the address, it reconnects with backoff and resumes on hand-back', async () => {
  const port = await freePort();
  const rig = await makeRig(demoRemoteManifest(`ws://127.0.0.1:${port}`, (m) => (m.server.metadata = { policy: 'hold' })), { seed: 1, family: 'push' });
  const ps = problems(rig.runner);
  assert.equal(await rig.runner.start(), false);
  assert.equal(rig.runner.state, 'faulted');
  const p = lastOf(ps)!;
  assert.equal(p.severity, 'error');
  assert.match(p.message!, new RegExp(`unreachable: cannot reach ws://127.0.0.1:${port}: ECONNREFUSED.*holds`));
  assert.match(p.tip!, /Start the server, or check the address .*SSH tunnel/);
  for (let i = 0; i < 5; i++) assert.equal((await rig.step()).source, 'hold');
  await new Promise((r) => setTimeout(r, 300)); // a few failed attempts
  assert.match(lastOf(ps)!.message!, /reconnect attempt \d+ failed/);
  const srv = await startFakeServer(['--policy', 'hold'], port);
  try {
    await holdsUntilHandback(rig);
    assert.equal(lastOf(ps)?.cleared, true);
    await rig.runner.stop();
  } finally {
    await srv.stop();
  }
});

for (const c of [
  { name: 'dropped mid-run', args: ['--drop-after', '3'], cause: /connection to the policy server was lost/ },
  { name: 'slow (past requestTimeoutMs)', args: ['--delay-ms', '1500', '--delay-after', '3'], cause: /too slow: no reply within 400 ms/, timeoutMs: 400 },
  { name: 'garbage bytes', args: ['--corrupt', 'garbage', '--corrupt-after', '3'], cause: /sent garbage: the reply is not a valid message/ },
  { name: 'wrong shape', args: ['--corrupt', 'shape', '--corrupt-after', '3'], cause: /unusable actions: "actions" has 7 columns; the manifest names 6 joints/ },
  { name: 'NaN actions', args: ['--corrupt', 'nan', '--corrupt-after', '3'], cause: /unusable actions: "actions"\[0\]\[0\] \(shoulder_pan\) is NaN/ },
  { name: 'huge actions', args: ['--corrupt', 'huge', '--corrupt-after', '3'], cause: /unusable actions: .*far outside its range/ },
  { name: 'a server traceback', args: ['--corrupt', 'text', '--corrupt-after', '3'], cause: /server failed on a request: .*RuntimeError: injected server failure/ },
]) {
  test(`fault, ${c.name}: the arm holds within the clamp, the problem names the cause, reconnect, resume only on hand-back`, async () => {
    const srv = await startFakeServer(['--policy', 'hold', ...c.args]);
    try {
      const rig = await makeRig(
        demoRemoteManifest(srv.url, (m) => {
          m.server.requestTimeoutMs = c.timeoutMs ?? 2000;
          m.server.metadata = { policy: 'hold' };
        }),
        { seed: 2, family: 'push' },
      );
      const ps = problems(rig.runner);
      assert.equal(await rig.runner.start(), true);
      await runUntilFault(rig, 60);
      const p = lastOf(ps)!;
      assert.equal(p.severity, 'error');
      assert.match(p.message!, c.cause);
      assert.match(p.message!, /The arm holds; reconnecting\./);
      assert.equal((await rig.step()).source, 'hold');
      await holdsUntilHandback(rig);
      await rig.runner.stop();
    } finally {
      await srv.stop();
    }
  });
}

test('a server whose metadata does not match the manifest is refused with the JSON path', async () => {
  const srv = await startFakeServer(['--policy', 'hold', '--metadata', '{"policy": "pi05_droid", "action_dim": 8}']);
  try {
    const rig = await makeRig(demoRemoteManifest(srv.url), { seed: 3, family: 'push' });
    const ps = problems(rig.runner);
    assert.equal(await rig.runner.start(), false);
    assert.match(lastOf(ps)!.message!, /does not match its manifest: server\.metadata\.policy: expected "reins-demo", the server says "pi05_droid"; action\.joints: names 6 joints, the server's action_dim is 8/);
    assert.equal((await rig.step()).source, 'hold');
    await rig.runner.stop();
  } finally {
    await srv.stop();
  }
});

test('the API key from the named environment variable is sent as "Authorization: Api-Key"; a wrong one is named', async () => {
  const srv = await startFakeServer(['--policy', 'hold', '--api-key', 's3cret']);
  try {
    const withKey = (v: string) =>
      makeRig(
        demoRemoteManifest(srv.url, (m) => {
          m.server.apiKeyEnv = 'OPENPI_API_KEY';
          m.server.metadata = { policy: 'hold' };
        }),
        { seed: 3, family: 'push', env: { OPENPI_API_KEY: v } },
      );
    const good = await withKey('s3cret');
    assert.equal(await good.runner.start(), true);
    await good.runner.stop();
    const bad = await withKey('nope');
    const ps = problems(bad.runner);
    assert.equal(await bad.runner.start(), false);
    assert.match(lastOf(ps)!.message!, /answered HTTP 401 \(the API key was refused/);
    await bad.runner.stop();
  } finally {
    await srv.stop();
  }
});

test('the demo served by the Python server returns the in-process demo chunk for the same observation (units and deltas mapped back)', async () => {
  const { openPolicy } = await import('../../../models/policies/open');
  const { RemotePolicy } = await import('../../../models/remote/RemotePolicy');
  const { SimCamera, SimRobot, SimWorld, SO101_JOINTS } = await import('../../../drivers/sim');
  const srv = await startFakeServer(['--policy', 'demo']);
  const local = await openPolicy('models/bundles/demo', { robotJoints: [...SO101_JOINTS], session: { intraOpNumThreads: 1 } });
  try {
    const remote = new RemotePolicy(demoRemoteManifest(srv.url), { robotJoints: [...SO101_JOINTS] });
    await remote.connect();
    for (const seed of [1_000_000, 1_000_001, 1_000_002]) {
      const world = new SimWorld({ seed, family: 'pick_place' });
      const robot = new SimRobot(world, () => 0);
      await robot.connect();
      const images: Record<string, { data: Uint8Array; width: number; height: number }> = {};
      for (const k of ['front', 'wrist'] as const) {
        const c = new SimCamera(world, k, { width: 64, height: 48, fps: 30 }, () => 0); // resized (centre crop) on both sides
        await c.connect();
        const f = c.readLatest()!;
        images[k] = { data: f.data, width: f.width, height: f.height };
      }
      const obs = { state: (await robot.readState()).positions, images, instruction: world.task.instruction };
      const a = await local.infer(obs, { speculative: false, relaxedR: 0, planCache: false, reasoning: false, jacobi: false });
      const b = await remote.infer(obs);
      assert.equal(a.valid, true);
      assert.equal(b.chunk.length, a.chunk.length);
      const diff = Math.max(...a.chunk.flatMap((row, t) => row.map((v, d) => Math.abs(v - b.chunk[t]![d]!))));
      assert.ok(diff < 1e-3, `seed ${seed}: remote and in-process chunks differ by ${diff}`);
    }
    await remote.dispose();
  } finally {
    await local.dispose();
    await srv.stop();
  }
});
