// HardwareService end to end over real ptys (socat) against emulated servo chains:
// connect → calibrate follower and leader → leader teleop → goals → e-stop → disconnect,
// for an SO-101 (Feetech STS3215) and a Koch (Dynamixel X), plus every injected fault.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HardwareService, type FollowerType, type LeaderType } from '../../../main/services/hardware';
import { ServoEmulator, openPtyPair, socatAvailable, type ServoChain } from '../../fakes/servo-emulator';
import { CommunicationError, PortAccessError } from '../../../drivers/transport/errors';
import { CalibrationError, MotorCheckError, MotorFaultError } from '../../../drivers/motors/errors';
import { toErrorData } from '../../../main/common/errors';
import type { LeaderTeleop } from '../../../drivers/teleop/leader/LeaderTeleop';

const SKIP = socatAvailable() ? false : 'socat is not installed (apt-get install socat)';
// A pty through socat with the emulator in this process, on a shared CI machine, is not a
// 1 Mbaud bus: give replies a generous margin so these tests check behaviour, not timing.
const M = { latencyMarginMs: 40 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ArmKind {
  label: string;
  protocol: 'feetech' | 'dynamixel';
  follower: FollowerType;
  leader: LeaderType;
  followerModels: string[];
  leaderModels: string[];
  fullTurn: string[];
  calName: [string, string];
  overload: number;
}

const SO101: ArmKind = {
  label: 'SO-101',
  protocol: 'feetech',
  follower: 'so101_follower',
  leader: 'so101_leader',
  followerModels: Array(6).fill('sts3215'),
  leaderModels: Array(6).fill('sts3215'),
  fullTurn: ['wrist_roll'],
  calName: ['robots/so_follower', 'teleoperators/so_leader'],
  overload: 0x20,
};
const KOCH: ArmKind = {
  label: 'Koch',
  protocol: 'dynamixel',
  follower: 'koch_follower',
  leader: 'koch_leader',
  followerModels: ['xl430-w250', 'xl430-w250', 'xl330-m288', 'xl330-m288', 'xl330-m288', 'xl330-m288'],
  leaderModels: Array(6).fill('xl330-m077'),
  fullTurn: ['shoulder_pan', 'wrist_roll'],
  calName: ['robots/koch_follower', 'teleoperators/koch_leader'],
  overload: 0x20,
};

const MID = [2100, 1900, 2000, 2200, 1000, 2048];

async function emulated(t: TestContext, protocol: 'feetech' | 'dynamixel', models: string[]): Promise<{ port: string; chain: ServoChain }> {
  const pty = await openPtyPair();
  const emu = new ServoEmulator({ path: pty.device, protocol, servos: models.map((model, i) => ({ id: i + 1, model, position: MID[i]! + 37 })), speedTicksPerS: 200_000 });
  await emu.start();
  t.after(async () => {
    await emu.stop();
    await pty.close();
  });
  return { port: pty.host, chain: emu.chain };
}

/** Drives the four calibration steps, moving the emulated joints like an operator would. */
async function calibrate(svc: HardwareService, arm: 'follower' | 'leader', chain: ServoChain, fullTurn: string[]) {
  const begun = await svc.beginCalibration(arm);
  assert.equal(begun.step, 'pose_mid');
  for (let i = 0; i < 6; i++) assert.equal(chain.torque(i + 1), false, 'torque off while calibrating');
  MID.forEach((p, i) => chain.setPosition(i + 1, p));
  const offsets = await svc.setCalibrationHoming();
  assert.equal(Object.keys(offsets).length, 6);
  let last;
  for (const d of [0, -400, -800, 300, 750, 0]) {
    MID.forEach((p, i) => chain.setPosition(i + 1, p + (fullTurn.includes(begun.joints[i]!) ? 0 : i === 5 ? d / 2 : d)));
    last = await svc.readRangeSample();
  }
  assert.equal(last![1]!.max - last![1]!.min, 1550);
  MID.forEach((p, i) => chain.setPosition(i + 1, p));
  return svc.finishCalibration();
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 2000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met in time: ${what}`);
    await sleep(5);
  }
}

for (const kind of [SO101, KOCH]) {
  test(`${kind.label}: connect → calibrate → leader teleop → goals → e-stop → disconnect`, { skip: SKIP }, async (t) => {
    const f = await emulated(t, kind.protocol, kind.followerModels);
    const l = await emulated(t, kind.protocol, kind.leaderModels);
    const dir = mkdtempSync(join(tmpdir(), 'reins-cal-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const svc = new HardwareService({ calibrationDir: dir });
    t.after(() => svc.disconnect().catch(() => undefined));

    const robot = await svc.connect({ type: kind.follower, port: f.port, id: 'arm1', leader: { type: kind.leader, port: l.port }, ...M });
    assert.equal(robot.isConnected, true);
    assert.equal(svc.status().follower?.calibrated, false);
    assert.equal(svc.teleop, undefined, 'no teleop before the leader is calibrated');
    await assert.rejects(robot.writeGoal([0, 0, 0, 0, 0, 0]), CalibrationError);

    // Follower calibration
    const fc = await calibrate(svc, 'follower', f.chain, kind.fullTurn);
    assert.equal(fc.path, join(dir, kind.calName[0], 'arm1.json'));
    const saved = JSON.parse(readFileSync(fc.path, 'utf8'));
    assert.deepEqual(Object.keys(saved.shoulder_lift).sort(), ['drive_mode', 'homing_offset', 'id', 'range_max', 'range_min']);
    assert.deepEqual([saved.shoulder_lift.range_min, saved.shoulder_lift.range_max], [2047 - 800, 2047 + 750]);
    assert.deepEqual([saved.wrist_roll.range_min, saved.wrist_roll.range_max], [0, 4095]);
    assert.equal(svc.status().follower?.calibrated, true);
    for (let i = 0; i < 6; i++) assert.equal(f.chain.torque(i + 1), true, 'torque on after calibration');
    const lift = robot.joints[1]!;
    assert.equal(lift.unit, 'deg');
    assert.ok(Math.abs(lift.max - (775 * 360) / 4095) < 1e-6 && Math.abs(lift.min + (775 * 360) / 4095) < 1e-6, `lift range ${lift.min}..${lift.max}`);
    assert.deepEqual([robot.joints[5]!.min, robot.joints[5]!.max, robot.joints[5]!.unit], [0, 100, 'percent']);

    // Leader calibration starts the teleop stream
    const lc = await calibrate(svc, 'leader', l.chain, kind.fullTurn);
    assert.equal(lc.path, join(dir, kind.calName[1], 'arm1.json'));
    if (kind.protocol === 'dynamixel') assert.equal(JSON.parse(readFileSync(lc.path, 'utf8')).elbow_flex.drive_mode, 1);
    const teleop = svc.teleop as unknown as LeaderTeleop;
    assert.ok(teleop && teleop.streaming);

    // Operator moves the leader; its positions become the follower's goals.
    l.chain.setPosition(2, MID[1]! + 300); // shoulder_lift +300 ticks
    const elbowSign = kind.protocol === 'dynamixel' ? -1 : 1; // Koch leader elbow is reversed in hardware
    l.chain.setPosition(3, MID[2]! - 200);
    // Degrees are relative to the calibrated range's midpoint: 2047 + (-800 + 750) / 2.
    const rangeMid = 2047 - 25;
    const deg = (present: number) => ((present - rangeMid) * 360) / 4095;
    let sample = teleop.poll(performance.now());
    await waitFor(() => {
      sample = teleop.poll(performance.now());
      return !!sample && sample.command.kind === 'absolute' && Math.abs(sample.command.positions[1]! - deg(2047 + 300)) < 0.2;
    }, `leader shoulder_lift reads ${deg(2047 + 300)}`);
    assert.ok(sample && sample.command.kind === 'absolute');
    const goal = sample.command.positions;
    // The Koch leader elbow is reversed, so its swept range (and midpoint) mirror the others'.
    const elbowMid = kind.protocol === 'dynamixel' ? 2047 + 25 : rangeMid;
    assert.ok(Math.abs(goal[2]! - ((2047 - 200 * elbowSign - elbowMid) * 360) / 4095) < 0.2, `elbow ${goal[2]}`);
    const sent = await robot.writeGoal(goal);
    assert.deepEqual(sent.map((v) => Math.round(v * 10)), goal.map((v) => Math.round(v * 10)));
    await waitFor(async () => Math.abs((await robot.readState()).positions[1]! - goal[1]!) < 0.2, 'follower reaches the leader pose');

    // Goals beyond the calibrated range are clamped, and writeGoal says so.
    const wild = await robot.writeGoal([0, 500, 0, 0, 0, 140]);
    assert.ok(Math.abs(wild[1]! - lift.max) < 1e-9);
    assert.equal(wild[5], 100);

    // The leader keeps streaming (its rate is measured by the bench, not asserted here).
    const reads = teleop.stats.reads;
    await waitFor(() => teleop.stats.reads > reads + 5, 'leader keeps streaming');

    // Health
    const health = await svc.readHealth();
    assert.equal(health.length, 6);
    assert.ok(health.every((h) => typeof h.temperatureC === 'number' && typeof h.voltageV === 'number' && h.errorBits.length === 0));

    // E-stop: hold present, torque stays on, teleop stops.
    const held = await svc.estop();
    assert.equal(held.length, 6);
    assert.equal(svc.teleop, undefined);
    for (let i = 0; i < 6; i++) assert.equal(f.chain.torque(i + 1), true, 'e-stop keeps torque on');
    const before = (await robot.readState()).positions;
    await sleep(30);
    const after = (await robot.readState()).positions;
    after.forEach((v, i) => assert.ok(Math.abs(v - before[i]!) < 0.1, 'arm holds still after e-stop'));
    svc.resumeTeleop();
    assert.ok(svc.teleop);

    // Overload on the elbow: readState raises a typed fault naming the servo.
    f.chain.setErrorBits(3, kind.overload);
    await assert.rejects(robot.readState(), (e: unknown) => {
      assert.ok(e instanceof MotorFaultError);
      assert.match(e.message, /servo 3 \(elbow_flex\)/);
      assert.match(e.message, /overload|hardware_alert/);
      assert.equal(toErrorData(e).code, 'motor_fault');
      return true;
    });
    const h2 = await svc.readHealth();
    assert.ok(h2[2]!.errorBits.includes('overload'));
    f.chain.setErrorBits(3, 0);

    // Disconnect: torque off by default.
    await svc.disconnect();
    for (let i = 0; i < 6; i++) assert.equal(f.chain.torque(i + 1), false, 'disconnect turns torque off');
    assert.equal(robot.isConnected, false);
    await assert.rejects(robot.readState(), (e: unknown) => toErrorData(e).code === 'not_connected');

    // Reconnect: the saved calibration matches the motors and is used as is.
    const again = await svc.connect({ type: kind.follower, port: f.port, id: 'arm1', leader: { type: kind.leader, port: l.port }, ...M });
    assert.equal(svc.status().follower?.calibrationStatus, 'matched');
    assert.ok(svc.teleop, 'teleop starts at once with a calibrated leader');
    assert.equal((await again.readState()).positions.length, 6);
    await svc.disconnect({ disableTorque: false });
    assert.equal(f.chain.torque(1), true, 'disconnect can keep torque on when asked');
  });

  test(`${kind.label}: every injected fault gives a typed, actionable error`, { skip: SKIP }, async (t) => {
    const f = await emulated(t, kind.protocol, kind.followerModels);
    const dir = mkdtempSync(join(tmpdir(), 'reins-cal-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const svc = new HardwareService({ calibrationDir: dir });
    t.after(() => svc.disconnect().catch(() => undefined));

    // Missing servo at connect
    f.chain.faults.absent.add(4);
    await assert.rejects(svc.connect({ type: kind.follower, port: f.port, id: 'a', ...M }), (e: unknown) => {
      assert.ok(e instanceof MotorCheckError);
      assert.match(e.message, /wrist_flex \(id 4\)/);
      assert.match(e.message, /power supply/);
      return true;
    });
    f.chain.faults.absent.delete(4);

    // Wrong model number
    f.chain.setModelNumber(2, 1234);
    await assert.rejects(svc.connect({ type: kind.follower, port: f.port, id: 'a', ...M }), (e: unknown) => e instanceof MotorCheckError && /id 2\) reports model 1234/.test(e.message));
    f.chain.setModelNumber(2, kind.protocol === 'feetech' ? 777 : 1060);

    // Port that doesn't exist
    await assert.rejects(svc.connect({ type: kind.follower, port: '/dev/ttyDOESNOTEXIST9', id: 'a', ...M }), (e: unknown) => e instanceof PortAccessError && e.kind === 'not_found');

    const robot = await svc.connect({ type: kind.follower, port: f.port, id: 'a', ...M });
    // Port held by another program
    const svc2 = new HardwareService({ calibrationDir: dir });
    await assert.rejects(svc2.connect({ type: kind.follower, port: f.port, id: 'b', ...M }), (e: unknown) => e instanceof PortAccessError && e.kind === 'busy' && /another program/.test(e.message));

    // Import an existing LeRobot calibration
    const lerobot = Object.fromEntries(
      ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'].map((n, i) => [n, { id: i + 1, drive_mode: 0, homing_offset: 0, range_min: 1000, range_max: 3000 }]),
    );
    const imp = await svc.importCalibration('follower', JSON.stringify(lerobot));
    assert.equal(imp.status, 'written');
    await assert.rejects(svc.importCalibration('follower', '{"shoulder_pan": 1}'), CalibrationError);

    // Garbage bytes and a single dropped / corrupted reply are absorbed.
    f.chain.faults.garbageNext = 3;
    f.chain.faults.dropNext = 1;
    f.chain.faults.corruptNext = 1;
    for (let i = 0; i < 5; i++) assert.equal((await robot.readState()).positions.length, 6);

    // Always-corrupt replies
    f.chain.faults.corruptRate = 1;
    await assert.rejects(robot.readState(), (e: unknown) => e instanceof CommunicationError && e.kind === 'corrupt' && /attempt/.test(e.message) && /cable/.test(e.message));
    f.chain.faults.corruptRate = 0;

    // A servo disappears mid-session
    f.chain.faults.absent.add(5);
    await assert.rejects(robot.readState(), (e: unknown) => {
      assert.ok(e instanceof CommunicationError);
      assert.equal(e.retryable, true);
      assert.match(e.message, /servo 5 \(wrist_roll\)/);
      assert.match(e.message, /3 attempt/);
      assert.equal(toErrorData(e).code, 'communication_error');
      return true;
    });
    await assert.rejects(svc.readHealth(), CommunicationError);
    f.chain.faults.absent.delete(5);
    assert.equal((await robot.readState()).positions.length, 6, 'recovers when the servo is back');

    // Calibration steps out of order / unmoved joints
    await assert.rejects(svc.setCalibrationHoming(), CalibrationError);
    await svc.beginCalibration('follower');
    await svc.setCalibrationHoming();
    await svc.readRangeSample();
    await assert.rejects(svc.finishCalibration(), (e: unknown) => e instanceof CalibrationError && /shoulder_lift \(servo 2\)/.test(e.message));
    svc.cancelCalibration();
    await svc.disconnect();

    // A saved calibration file that doesn't fit doesn't lock the operator out.
    const badPath = join(dir, kind.calName[0], 'bad.json');
    mkdirSync(dirname(badPath), { recursive: true });
    writeFileSync(badPath, JSON.stringify({ shoulder_pan: { id: 1 } }));
    await svc.connect({ type: kind.follower, port: f.port, id: 'bad', ...M });
    assert.equal(svc.status().follower?.calibrated, false);
    assert.match(svc.status().problems?.[0] ?? '', /does not fit this arm/);
    await svc.disconnect();
  });

  test(`${kind.label}: a servo fault present at power-on: connect succeeds with torque off and the fault in status().problems`, { skip: SKIP }, async (t) => {
    const f = await emulated(t, kind.protocol, kind.followerModels);
    const dir = mkdtempSync(join(tmpdir(), 'reins-cal-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const svc = new HardwareService({ calibrationDir: dir });
    t.after(() => svc.disconnect().catch(() => undefined));
    f.chain.setErrorBits(4, kind.overload);
    const robot = await svc.connect({ type: kind.follower, port: f.port, id: 'hot', ...M });
    assert.equal(robot.isConnected, true);
    for (let i = 0; i < 6; i++) assert.equal(f.chain.torque(i + 1), false, 'torque left off');
    assert.ok((svc.status().problems ?? []).some((p) => /servo 4 \(wrist_flex\)/.test(p) && /torque left off/.test(p)), JSON.stringify(svc.status().problems));
    await svc.disconnect();
  });
}
