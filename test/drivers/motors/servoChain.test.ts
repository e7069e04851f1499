// The emulator itself (pure, injected clock): motion with a speed limit, torque, EEPROM lock,
// homing semantics per vendor, and the faults it injects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServoChain } from '../../fakes/servo-emulator/ServoChain';
import * as ft from '../../../drivers/motors/feetech/codec';
import * as dx from '../../../drivers/motors/dynamixel/codec';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));

test('emulator answers the spec packets byte for byte (Feetech PING / READ)', () => {
  const c = new ServoChain({ protocol: 'feetech', servos: [{ id: 1, model: 'sts3215', position: 2048 }] });
  assert.deepEqual([...c.feed(hex('FF FF 01 02 01 FB'))[0]!.replies[0]!.bytes], [...hex('FF FF 01 02 00 FC')]);
  // READ Present_Position id 1 → reply pos=2048 (spec §1.1)
  assert.deepEqual([...c.feed(hex('FF FF 01 04 02 38 02 BE'))[0]!.replies[0]!.bytes], [...hex('FF FF 01 04 00 00 08 F2')]);
});

test('goal → present moves at the speed limit once torque is on', () => {
  let now = 0;
  const c = new ServoChain({ protocol: 'feetech', servos: [{ id: 1, model: 'sts3215', position: 1000 }], clock: () => now, speedTicksPerS: 1000 });
  c.feed(ft.encodeWrite(1, 42, ft.encodeRegister('Goal_Position', 2000)));
  now = 100;
  assert.equal(c.position(1), 1000, 'no motion with torque off');
  c.feed(ft.encodeWrite(1, 40, [1]));
  c.feed(ft.encodeWrite(1, 42, ft.encodeRegister('Goal_Position', 2000)));
  now = 600;
  assert.equal(c.position(1), 1500);
  now = 2000;
  assert.equal(c.position(1), 2000);
});

test('Feetech Present = Actual − Homing_Offset; Dynamixel Present = Actual + Homing_Offset', () => {
  const f = new ServoChain({ protocol: 'feetech', servos: [{ id: 1, model: 'sts3215', position: 2100 }] });
  f.feed(ft.encodeWrite(1, 31, ft.encodeRegister('Homing_Offset', 53)));
  assert.equal(f.register(1, 56, 2), 2047);
  const d = new ServoChain({ protocol: 'dynamixel', servos: [{ id: 1, model: 'xl330-m288', position: 2100 }] });
  d.feed(dx.encodeWrite(1, 20, dx.encodeRegister('Homing_Offset', -53)));
  assert.equal(d.register(1, 132, 4), 2047);
});

test('Dynamixel refuses EEPROM writes while torque is on (access error)', () => {
  const d = new ServoChain({ protocol: 'dynamixel', servos: [{ id: 1, model: 'xl330-m288' }] });
  d.feed(dx.encodeWrite(1, 64, [1]));
  const r = d.feed(dx.encodeWrite(1, 11, [4]))[0]!.replies[0]!.bytes;
  const s = dx.scanFrame(r);
  assert.ok(s.kind === 'frame' && s.frame.error === 7);
});

test('faults: drop, corrupt, garbage, absent servo, wrong model, error bits, return delay', () => {
  const c = new ServoChain({ protocol: 'feetech', servos: [1, 2].map((id) => ({ id, model: 'sts3215' })) });
  c.faults.dropNext = 1;
  assert.equal(c.feed(ft.encodeSyncRead(56, 2, [1, 2]))[0]!.replies.length, 1);
  c.faults.corruptNext = 1;
  assert.equal(ft.scanFrame(c.feed(ft.encodePing(1))[0]!.replies[0]!.bytes).kind, 'corrupt');
  c.faults.garbageNext = 1;
  const g = c.feed(ft.encodePing(1))[0]!.replies[0]!.bytes;
  assert.ok(g.length > 6 && ft.scanFrame(g).kind === 'frame');
  c.faults.absent.add(2);
  assert.equal(c.feed(ft.encodePing(2))[0]!.replies.length, 0);
  c.setModelNumber(1, 1234);
  assert.equal(c.register(1, 3, 2), 1234);
  c.setErrorBits(1, 0x24);
  const st = ft.scanFrame(c.feed(ft.encodePing(1))[0]!.replies[0]!.bytes);
  assert.ok(st.kind === 'frame' && st.frame.code === 0x24);
  c.feed(ft.encodeWrite(1, 7, [250]));
  assert.equal(c.returnDelayUs(1), 500);
});
