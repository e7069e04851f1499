// Servo faults around connect and disconnect (issue 15): torque-off reaches every servo after a
// fault, a fault present at power-on lets the arm connect with torque off and the fault shown,
// a vanished servo is named as silent, fault messages name the register, the adapter latency is
// measured at connect with advice when it is high.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SerialTransport } from '../../../drivers/transport/SerialTransport';
import { createSoFollower } from '../../../drivers/robots/so101/so101';
import { createKochFollower } from '../../../drivers/robots/koch/koch';
import { MotorFaultError, TorqueOffError } from '../../../drivers/motors/errors';
import { CommunicationError } from '../../../drivers/transport/errors';
import { decodeErrorBits } from '../../../drivers/motors/feetech/codec';
import { ServoEmulator, openPtyPair, socatAvailable, type AdapterModel, type ServoChain } from '../../fakes/servo-emulator';

const SKIP = socatAvailable() ? false : 'socat is not installed';
const BUS = { latencyMarginMs: 40 }; // pty + in-process emulator on a shared machine
const NAMES = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const cal = Object.fromEntries(NAMES.map((n, i) => [n, { id: i + 1, drive_mode: 0, homing_offset: 0, range_min: n === 'wrist_roll' ? 0 : 1047, range_max: n === 'wrist_roll' ? 4095 : 3047 }]));
const FT = Array(6).fill('sts3215');
const DX = ['xl430-w250', 'xl430-w250', 'xl330-m288', 'xl330-m288', 'xl330-m288', 'xl330-m288'];

async function rig(t: TestContext, protocol: 'feetech' | 'dynamixel', adapter: Partial<AdapterModel> = {}, bus: { latencyMarginMs?: number } = BUS) {
  const pty = await openPtyPair();
  const emu = new ServoEmulator({ path: pty.device, protocol, servos: (protocol === 'feetech' ? FT : DX).map((model, i) => ({ id: i + 1, model, position: 2047 })), speedTicksPerS: Infinity, adapter });
  await emu.start();
  const transport = new SerialTransport({ path: pty.host });
  const robot = protocol === 'feetech' ? createSoFollower('so101_follower', { id: 'f', transport, calibration: cal, bus }) : createKochFollower({ id: 'k', transport, calibration: cal, bus });
  t.after(async () => {
    await robot.disconnect().catch(() => undefined);
    await emu.stop();
    await pty.close();
  });
  return { robot, chain: emu.chain as ServoChain };
}

for (const protocol of ['feetech', 'dynamixel'] as const) {
  test(`${protocol}: disconnect turns torque off on every servo after a fault, and reports a silent one after trying the rest`, { skip: SKIP }, async (t) => {
    const { robot, chain } = await rig(t, protocol);
    await robot.connect();
    assert.ok([1, 2, 3, 4, 5, 6].every((id) => chain.torque(id)), 'torque on after connect');
    chain.setErrorBits(2, 0x20); // overload on shoulder_lift mid-run
    chain.faults.absent.add(4); // wrist_flex stops answering
    await assert.rejects(robot.disconnect(), (e: unknown) => {
      assert.ok(e instanceof TorqueOffError, String(e));
      assert.deepEqual(e.failures.map((f) => f.id), [4]);
      assert.match(e.message, /servo 4 \(wrist_flex\)/);
      assert.match(e.message, /Every other servo was turned off/);
      return true;
    });
    assert.deepEqual([1, 2, 3, 5, 6].map((id) => chain.torque(id)), [false, false, false, false, false], 'every servo that answers is off, the faulted one included');
  });

  test(`${protocol}: a fault present at power-on: connect succeeds with torque off, the fault shown; readState names the register`, { skip: SKIP }, async (t) => {
    const { robot, chain } = await rig(t, protocol);
    chain.setErrorBits(3, 0x20);
    await robot.connect();
    assert.equal(robot.isConnected, true);
    assert.deepEqual(robot.connectFaults.map((f) => f.id), [3]);
    assert.ok([1, 2, 3, 4, 5, 6].every((id) => !chain.torque(id)), 'torque left off');
    assert.ok(robot.warnings.some((w) => /elbow_flex/.test(w) && /torque left off/.test(w)), robot.warnings.join('\n'));
    await assert.rejects(robot.readState(), (e: unknown) => e instanceof MotorFaultError && /servo 3 \(elbow_flex\), register Present_Position/.test(e.message));
    chain.setErrorBits(3, 0);
    await robot.setTorque(true);
    assert.ok(chain.torque(3));
  });

  test(`${protocol}: a vanished servo is named as silent, whatever the rotation of the read order`, { skip: SKIP }, async (t) => {
    const { robot, chain } = await rig(t, protocol);
    await robot.connect();
    chain.faults.absent.add(4);
    for (let i = 0; i < 12; i++) {
      await assert.rejects(robot.readState(), (e: unknown) => {
        assert.ok(e instanceof CommunicationError);
        assert.match(e.message, /^No reply from servo 4 \(wrist_flex\)/);
        assert.doesNotMatch(e.message, /share an ID/);
        return true;
      });
    }
    chain.faults.absent.delete(4);
    await robot.disconnect();
  });
}

test('feetech: the adapter latency is measured at connect; timeouts follow it; high latency brings the FTDI advice', { skip: SKIP }, async (t) => {
  const { robot } = await rig(t, 'feetech', { latencyMs: 8, jitterMs: 1 }, {});
  await robot.connect();
  const lat = robot.group.latency!;
  assert.ok(lat.medianMs >= 7, `median ${lat.medianMs}`);
  assert.ok(robot.group.bus.marginMs >= 1.5 * 7, `margin ${robot.group.bus.marginMs}`);
  assert.match(lat.advice ?? '', /latency timer to 1 ms/);
  assert.ok(robot.warnings.some((w) => /latency_timer/.test(w)));
  assert.equal((await robot.readState()).positions.length, 6);
});

test('feetech: a fast adapter gives no latency advice', { skip: SKIP }, async (t) => {
  const { robot } = await rig(t, 'feetech', {}, {});
  await robot.connect();
  assert.equal(robot.group.latency!.advice, undefined);
  assert.ok(robot.group.bus.marginMs < 40);
});

test('Feetech status bit 7 has a name and advice', () => {
  assert.deepEqual(decodeErrorBits(0x80), ['invalid_status_bit7']);
});
