/**
 * The console session driving emulated arms over real pseudo-terminals (socat), through the same
 * API the renderer uses: connect follower + leader → calibrate both → the leader takes over through
 * the loop → a policy drives → e-stop holds → disconnect (torque off) → back to the simulator.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleSession } from '../../main/services/session';
import { ServoEmulator, openPtyPair, socatAvailable, type ServoChain } from '../fakes/servo-emulator';
import type { ClientConnection } from '../../main/services/api';
import type { SessionSnapshot } from '../../main/common/contract';

const SKIP = socatAvailable() ? false : 'socat is not installed (apt-get install socat)';
const MID = [2100, 1900, 2000, 2200, 1000, 2048];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function chainOn(t: TestContext, protocol: 'feetech' | 'dynamixel', models: string[]): Promise<{ port: string; chain: ServoChain }> {
  const pty = await openPtyPair();
  const emu = new ServoEmulator({ path: pty.device, protocol, servos: models.map((model, i) => ({ id: i + 1, model, position: MID[i]! })), speedTicksPerS: 200_000 });
  await emu.start();
  t.after(async () => {
    await emu.stop();
    await pty.close();
  });
  return { port: pty.host, chain: emu.chain };
}

async function call<T>(conn: ClientConnection, name: string, args: unknown): Promise<T> {
  const r = await conn.invoke(name, args);
  if (!r.ok) throw new Error(`${name}: ${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

async function calibrateViaApi(conn: ClientConnection, target: 'follower' | 'leader', chain: ServoChain, fullTurn: string[], joints: string[]) {
  const begun = await call<{ instructions: string }>(conn, 'calibration.begin', { target });
  assert.match(begun.instructions, /middle/);
  MID.forEach((p, i) => chain.setPosition(i + 1, p));
  for (const d of [0, -500, 500, 0]) {
    MID.forEach((p, i) => chain.setPosition(i + 1, p + (fullTurn.includes(joints[i]!) ? 0 : i === 5 ? d / 2 : d)));
    const s = await call<{ joints: { name: string; min: number; max: number }[] }>(conn, 'calibration.sample', {});
    assert.equal(s.joints.length, 6);
  }
  MID.forEach((p, i) => chain.setPosition(i + 1, p));
  return call<{ path: string }>(conn, 'calibration.finish', {});
}

const ARMS = [
  { label: 'SO-101', protocol: 'feetech' as const, follower: 'so101_follower', leader: 'so101_leader', models: Array(6).fill('sts3215'), leaderModels: Array(6).fill('sts3215'), fullTurn: ['wrist_roll'] },
  { label: 'Koch', protocol: 'dynamixel' as const, follower: 'koch_follower', leader: 'koch_leader', models: ['xl430-w250', 'xl430-w250', 'xl330-m288', 'xl330-m288', 'xl330-m288', 'xl330-m288'], leaderModels: Array(6).fill('xl330-m077'), fullTurn: ['shoulder_pan', 'wrist_roll'] },
];

for (const arm of ARMS) {
  test(`${arm.label} through the console: connect → calibrate → leader teleop → policy → e-stop → disconnect`, { skip: SKIP, timeout: 90_000 }, async (t) => {
    const f = await chainOn(t, arm.protocol, arm.models);
    const l = await chainOn(t, arm.protocol, arm.leaderModels);
    // A host-side camera (ffmpeg's test pattern standing in for a USB camera) comes with the real arm.
    const s = new ConsoleSession({ seed: 1, calibrationDir: mkdtempSync(join(tmpdir(), 'reins-cal-')), serialLatencyMarginMs: 40, hardwareCameras: [{ key: 'front', source: { kind: 'testsrc' }, width: 160, height: 120, fps: 30 }] });
    t.after(() => s.stop());
    const conn = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
    const ports = await call<{ ports: unknown[]; method: string }>(conn, 'hardware.listPorts', {});
    assert.ok(typeof ports.method === 'string');

    const snap = await call<SessionSnapshot>(conn, 'hardware.connect', { type: arm.follower, port: f.port, id: 'arm1', leader: { type: arm.leader, port: l.port, id: 'lead1' } });
    assert.equal(snap.robot.type, arm.follower);
    assert.deepEqual(snap.cameras.map((c) => c.key), ['front']);
    const joints = snap.robot.joints.map((j) => j.name);
    // Starting and cancelling a calibration gives the arm back to the loop.
    await call(conn, 'calibration.begin', { target: 'follower' });
    assert.ok(s.snapshot().problems.some((p) => p.id === 'calibrating'), 'the operator is told the loop is paused');
    assert.deepEqual(await call(conn, 'calibration.cancel', {}), { cancelled: true });
    assert.ok(!s.snapshot().problems.some((p) => p.id === 'calibrating'));
    const fc = await calibrateViaApi(conn, 'follower', f.chain, arm.fullTurn, joints);
    assert.match(fc.path, /arm1\.json$/);
    await calibrateViaApi(conn, 'leader', l.chain, arm.fullTurn, joints);

    // Leader teleop through the loop: moving the leader's elbow moves the follower's goal.
    const tick = async (n: number) => {
      const out = [];
      for (let i = 0; i < n; i++) {
        out.push(await s.loop.tick());
        await sleep(15);
      }
      return out;
    };
    await tick(5);
    l.chain.setPosition(3, MID[2]! + 300);
    await sleep(60); // the leader stream reads at 100+ Hz
    const steps = await tick(10);
    // Under load (CI runs two test files at a time) a leader read can arrive late: the watchdog drops
    // the leader to a latched HOLD as it must, and Hand back (H) lets it drive again.
    for (let i = 0; i < 40 && steps.at(-1)!.source !== 'operator'; i++) {
      if (s.loop.latched) assert.equal(conn.command('handback', {}), undefined);
      steps.push(...(await tick(1)));
    }
    assert.equal(steps.at(-1)!.source, 'operator');
    assert.equal(steps.at(-1)!.observation.images.front?.width, 160, 'the camera frame rides on the observation');
    const leaderElbow = steps.at(-1)!.action[2]!;
    assert.ok(Math.abs(leaderElbow - steps[0]!.action[2]!) > 5, 'the follower goal followed the leader');

    // A policy drives once the operator hands back (the leader must stay still: it would take over again).
    const health = await call<{ joint: string; errorBits: string[] }[]>(conn, 'hardware.health', {});
    assert.equal(health.length, 6);
    s.loop.operator.teleop = undefined;
    s.loop.handback();
    const target = s.robot.joints.map((j, i) => (i === 1 ? Math.min(j.max, (steps.at(-1)!.action[1] ?? 0) + 8) : steps.at(-1)!.action[i]!));
    s.loop.setPolicy({ name: 'test', step: () => ({ goal: target }), reset: () => {}, stop: async () => {} });
    const driven = await tick(5);
    assert.equal(driven.at(-1)!.source, 'policy');

    // E-stop: the goal freezes, whatever the policy asks.
    conn.command('estop', { engaged: true });
    const held = await tick(5);
    assert.ok(held.every((h) => h.source === 'estop'));
    assert.deepEqual(held.at(-1)!.action, held[0]!.action);

    // Disconnect: torque off on every servo, and the console is back on the simulator.
    const back = await call<SessionSnapshot>(conn, 'hardware.disconnect', {});
    assert.equal(back.robot.type, 'sim_so101');
    for (let i = 1; i <= 6; i++) assert.equal(f.chain.torque(i), false, `servo ${i} torque still on after disconnect`);
  });
}

test('a port nobody answers on is a typed, actionable error and the console stays on the simulator', { skip: SKIP, timeout: 30_000 }, async (t) => {
  const pty = await openPtyPair(); // no emulator on the far end
  t.after(() => pty.close());
  const s = new ConsoleSession({ seed: 1, calibrationDir: mkdtempSync(join(tmpdir(), 'reins-cal-')) });
  t.after(() => s.stop());
  const conn = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  const r = await conn.invoke('hardware.connect', { type: 'so101_follower', port: pty.host, id: 'x' });
  assert.ok(!r.ok);
  assert.ok(['communication_error', 'not_found', 'timeout'].includes(r.error.code), r.error.code);
  assert.match(r.error.message, /servo|motor|answer|power|id/i);
  assert.equal(s.snapshot().robot.type, 'sim_so101');
});
