// Golden vectors from shared/specs/lerobot.md §1.1 / §1.4 (worked packets computed from the
// Feetech frame rule and LeRobot's mock layout), not from the codec under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ft from '../../../drivers/motors/feetech/codec';
import { STS_CONTROL_TABLE, FEETECH_BAUD_TABLE } from '../../../drivers/motors/feetech/tables';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');

const golden: [string, () => Uint8Array, string][] = [
  ['PING id 1', () => ft.encodePing(1), 'FF FF 01 02 01 FB'],
  ['READ Present_Position id 1', () => ft.encodeRead(1, 0x38, 2), 'FF FF 01 04 02 38 02 BE'],
  ['WRITE Torque_Enable=1 id 1', () => ft.encodeWrite(1, 0x28, [1]), 'FF FF 01 04 03 28 01 CE'],
  ['SYNC_READ Present_Position ids 1-6', () => ft.encodeSyncRead(0x38, 2, [1, 2, 3, 4, 5, 6]), 'FF FF FE 0A 82 38 02 01 02 03 04 05 06 26'],
  [
    'SYNC_WRITE Goal_Position=2048 ids 1-6',
    () => ft.encodeSyncWrite(0x2a, 2, [1, 2, 3, 4, 5, 6].map((id) => ({ id, data: [0x00, 0x08] }))),
    'FF FF FE 16 83 2A 02 01 00 08 02 00 08 03 00 08 04 00 08 05 00 08 06 00 08 F7',
  ],
  ['status pos=2048 id 1', () => ft.encodeStatus(1, 0, [0x00, 0x08]), 'FF FF 01 04 00 00 08 F2'],
];

for (const [name, build, want] of golden) test(`feetech golden: ${name}`, () => assert.equal(toHex(build()), want));

test('feetech: status parse, garbage resync, corrupt detection', () => {
  const reply = hex('FF FF 01 04 00 00 08 F2');
  const withGarbage = new Uint8Array([0x13, 0xff, 0x00, 0x42, ...reply]);
  const r = ft.scanFrame(withGarbage);
  assert.equal(r.kind, 'frame');
  if (r.kind === 'frame') {
    assert.equal(r.frame.id, 1);
    assert.equal(r.frame.code, 0);
    assert.equal(ft.decodeRegister('Present_Position', r.frame.params), 2048);
    assert.equal(r.end, withGarbage.length);
  }
  const bad = reply.slice();
  bad[7] = 0xf3;
  assert.equal(ft.scanFrame(bad).kind, 'corrupt');
  assert.equal(ft.scanFrame(reply.subarray(0, 5)).kind, 'incomplete');
  // FF FF FF 01 ...: the header is the last FF pair
  const r2 = ft.scanFrame(new Uint8Array([0xff, ...reply]));
  assert.equal(r2.kind, 'frame');
});

test('feetech: status error bits', () => {
  assert.deepEqual(ft.decodeErrorBits(0x24), ['overheat', 'overload']);
  assert.deepEqual(ft.decodeErrorBits(0x01), ['input_voltage']);
  assert.deepEqual(ft.decodeErrorBits(0), []);
});

test('feetech: sign-magnitude per register (spec: Homing_Offset -100 -> 0x0864)', () => {
  assert.equal(ft.encodeSignMagnitude(-100, 11), 0x0864);
  assert.equal(ft.decodeSignMagnitude(0x0864, 11), -100);
  assert.deepEqual([...ft.encodeRegister('Homing_Offset', -100)], [0x64, 0x08]);
  assert.equal(ft.decodeRegister('Homing_Offset', [0x64, 0x08]), -100);
  assert.equal(ft.decodeRegister('Present_Load', [0x05, 0x04]), -5); // bit 10
  assert.equal(ft.decodeRegister('Present_Position', [0x10, 0x80]), -16); // bit 15
  assert.throws(() => ft.encodeSignMagnitude(2114, 11), /Magnitude 2114 exceeds 2047/);
});

test('feetech: STS little-endian vs SCS big-endian', () => {
  assert.deepEqual([...ft.intToBytes(0x0800, 2, 'le')], [0x00, 0x08]);
  assert.deepEqual([...ft.intToBytes(0x0800, 2, 'be')], [0x08, 0x00]);
  assert.equal(ft.bytesToInt([0x08, 0x00], 2, 'be'), 2048);
  assert.deepEqual([...ft.encodeRegister('Goal_Position', 2048, 'be')], [0x08, 0x00]);
});

test('feetech tables: addresses from the spec, Feetech baud table', () => {
  assert.equal(STS_CONTROL_TABLE.Present_Position.address, 56);
  assert.equal(STS_CONTROL_TABLE.Goal_Position.address, 42);
  assert.equal(STS_CONTROL_TABLE.Homing_Offset.address, 31);
  assert.equal(STS_CONTROL_TABLE.Lock.address, 55);
  assert.equal(FEETECH_BAUD_TABLE[5], 76_800);
  assert.equal(FEETECH_BAUD_TABLE[0], 1_000_000);
});
