// The shared servo bus over a real pty against the emulator, both protocols.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SerialTransport } from '../../../drivers/transport/SerialTransport';
import { FeetechMotorBus, scanBaudRates } from '../../../drivers/motors/feetech/bus';
import { DynamixelMotorBus } from '../../../drivers/motors/dynamixel/bus';
import type { ServoBus } from '../../../drivers/motors/ServoBus';
import { CommunicationError } from '../../../drivers/transport/errors';
import { MotorFaultError } from '../../../drivers/motors/errors';
import { ServoEmulator, openPtyPair, socatAvailable, type EmulatedProtocol } from '../../fakes/servo-emulator';

const HAVE_SOCAT = socatAvailable();
const IDS = [1, 2, 3, 4, 5, 6];

async function rig(t: TestContext, protocol: EmulatedProtocol) {
  const pty = await openPtyPair();
  const emu = new ServoEmulator({ path: pty.device, protocol, servos: IDS.map((id) => ({ id, model: protocol === 'feetech' ? 'sts3215' : 'xl330-m288', position: 1000 + id * 100 })), speedTicksPerS: Infinity });
  await emu.start();
  const transport = new SerialTransport({ path: pty.host });
  const bus: ServoBus<string> = (protocol === 'feetech' ? new FeetechMotorBus(transport, { latencyMarginMs: 40 }) : new DynamixelMotorBus(transport, { latencyMarginMs: 40 })) as unknown as ServoBus<string>;
  await bus.open();
  t.after(async () => {
    await bus.close();
    await emu.stop();
    await pty.close();
  });
  return { bus, emu, chain: emu.chain };
}

for (const protocol of ['feetech', 'dynamixel'] as const) {
  const pos = protocol === 'feetech' ? 'Present_Position' : 'Present_Position';
  const model = protocol === 'feetech' ? 777 : 1200;
  const torque = 'Torque_Enable';

  test(`${protocol} bus: ping, read, write, sync read/write over a pty`, { skip: HAVE_SOCAT ? false : 'socat not installed' }, async (t) => {
    const { bus, chain } = await rig(t, protocol);
    assert.equal(await bus.ping(3), model);
    assert.equal(await bus.read(pos, 2), 1200);
    await bus.write(torque, 1, 1);
    assert.equal(chain.torque(1), true);
    const r = await bus.syncRead(pos, IDS);
    assert.deepEqual(r.values, [1100, 1200, 1300, 1400, 1500, 1600]);
    for (const id of IDS) await bus.write(torque, id, 1);
    await bus.syncWrite('Goal_Position', IDS.map((id) => ({ id, value: 2000 + id })));
    assert.deepEqual((await bus.syncRead(pos, IDS)).values, IDS.map((id) => 2000 + id));
    const found = await bus.broadcastPing();
    assert.deepEqual([...found.keys()].sort(), IDS);
    assert.equal(found.get(4), model);
  });

  test(`${protocol} bus: a dropped reply costs one short retry; a gone servo a typed error naming it`, { skip: HAVE_SOCAT ? false : 'socat not installed' }, async (t) => {
    const { bus, chain } = await rig(t, protocol);
    bus.names = new Map([[4, 'wrist_flex']]);
    chain.faults.dropNext = 1;
    assert.equal((await bus.syncRead(pos, IDS)).values.length, 6);
    assert.ok(bus.stats.retries >= 1);
    chain.faults.absent.add(4);
    await assert.rejects(bus.syncRead(pos, IDS), (e: unknown) => {
      assert.ok(e instanceof CommunicationError);
      assert.equal(e.code, 'communication_error');
      assert.equal(e.retryable, true);
      assert.match(e.message, /servo 4 \(wrist_flex\)/);
      assert.match(e.message, /3 attempt/);
      assert.match(e.message, /powered/);
      return true;
    });
    chain.faults.absent.delete(4);
    assert.equal((await bus.syncRead(pos, IDS)).values.length, 6);
  });

  test(`${protocol} bus: corrupted replies are retried and never leave a stale read behind`, { skip: HAVE_SOCAT ? false : 'socat not installed' }, async (t) => {
    const { bus, chain } = await rig(t, protocol);
    for (const id of IDS) await bus.write(torque, id, 1);
    for (let cycle = 0; cycle < 60; cycle++) {
      if (cycle % 7 === 3) chain.faults.corruptNext = 2; // two corrupt replies close together
      if (cycle % 11 === 5) chain.faults.garbageNext = 3;
      const goal = 1500 + cycle * 10;
      await bus.syncWrite('Goal_Position', IDS.map((id) => ({ id, value: goal + id })));
      const r = await bus.syncRead(pos, IDS);
      assert.deepEqual(r.values, IDS.map((id) => goal + id), `cycle ${cycle} read stale data`);
    }
    assert.ok(bus.stats.corrupt > 0);
    chain.faults.corruptRate = 1;
    await assert.rejects(bus.read(pos, 1), (e: unknown) => e instanceof CommunicationError && e.kind === 'corrupt' && /servo 1/.test(e.message));
  });

  test(`${protocol} bus: overload/overheat bits become a MotorFaultError on read, error codes on sync read`, { skip: HAVE_SOCAT ? false : 'socat not installed' }, async (t) => {
    const { bus, chain } = await rig(t, protocol);
    chain.setErrorBits(2, protocol === 'feetech' ? 0x20 : 0x20);
    await assert.rejects(bus.read(pos, 2), (e: unknown) => {
      assert.ok(e instanceof MotorFaultError);
      assert.equal(e.code, 'motor_fault');
      assert.match(e.message, /servo 2/);
      return true;
    });
    const r = await bus.syncRead(pos, IDS);
    assert.notEqual(r.errors[1], 0);
    assert.equal(bus.faultsOf(IDS, r.errors).length, 1);
  });
}

test('feetech bus: scan over the baud table finds the chain at 1 Mbaud', { skip: HAVE_SOCAT ? false : 'socat not installed' }, async (t) => {
  const { bus } = await rig(t, 'feetech');
  const found = await scanBaudRates(bus, [1_000_000, 500_000]);
  // A pty carries bytes at any baud, so both rates answer; a real bus answers only at its own.
  assert.ok(found.some((f) => f.baudRate === 1_000_000 && f.servos.size === 6));
});
