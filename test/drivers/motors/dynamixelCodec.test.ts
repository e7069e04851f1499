// Golden vectors from shared/specs/lerobot.md §2.1 (ROBOTIS e-manual PING example and the
// spec's worked packets), not from the codec under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dx from '../../../drivers/motors/dynamixel/codec';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');

test('dynamixel golden: PING id 1 (e-manual)', () => assert.equal(toHex(dx.encodePing(1)), 'FF FF FD 00 01 03 00 01 19 4E'));
test('dynamixel golden: SYNC_READ Present_Position ids 1-6', () =>
  assert.equal(toHex(dx.encodeSyncRead(132, 4, [1, 2, 3, 4, 5, 6])), 'FF FF FD 00 FE 0D 00 82 84 00 04 00 01 02 03 04 05 06 B2 9B'));
test('dynamixel golden: WRITE Torque_Enable=1 id 1', () => assert.equal(toHex(dx.encodeWrite(1, 64, [1])), 'FF FF FD 00 01 06 00 03 40 00 01 DB 66'));
test('dynamixel: CRC table starts 0000 8005 800F 000A 801B (spec)', () => {
  assert.equal(dx.crc16([0x00]), 0x0000);
  assert.equal(dx.crc16([0x01]), 0x8005);
  assert.equal(dx.crc16([0x02]), 0x800f);
  assert.equal(dx.crc16([0x03]), 0x000a);
  assert.equal(dx.crc16([0x04]), 0x801b);
});

test('dynamixel: byte stuffing round trip', () => {
  assert.deepEqual(dx.stuff([0x03, 0xff, 0xff, 0xfd, 0x01]), [0x03, 0xff, 0xff, 0xfd, 0xfd, 0x01]);
  assert.deepEqual(dx.unstuff([0x03, 0xff, 0xff, 0xfd, 0xfd, 0x01]), [0x03, 0xff, 0xff, 0xfd, 0x01]);
  const pkt = dx.encodeWrite(1, 116, [0xff, 0xff, 0xfd, 0x00]);
  assert.equal(pkt[5], 0x0a); // LEN grew by the stuffed byte: 1 instr + 2 addr + 4 data + 1 stuffed + 2 crc
  const r = dx.scanFrame(pkt);
  assert.equal(r.kind, 'frame');
  if (r.kind === 'frame') assert.deepEqual([...r.frame.params], [116, 0, 0xff, 0xff, 0xfd, 0x00]);
});

test('dynamixel: status parse with garbage, error bits, corrupt CRC', () => {
  const st = dx.encodeStatus(3, 0x80, [0x10, 0x00, 0x00, 0x00]);
  const r = dx.scanFrame(new Uint8Array([0x01, 0xfd, 0xff, ...st]));
  assert.equal(r.kind, 'frame');
  if (r.kind === 'frame') {
    assert.equal(r.frame.id, 3);
    assert.equal(r.frame.instr, 0x55);
    assert.deepEqual(dx.decodeErrorBits(r.frame.error), ['hardware_alert']);
    assert.equal(dx.decodeRegister('Present_Position', r.frame.params), 16);
  }
  const bad = st.slice();
  bad[bad.length - 1] ^= 1;
  assert.equal(dx.scanFrame(bad).kind, 'corrupt');
  assert.deepEqual(dx.decodeErrorBits(0x07), ['access_error']);
  assert.deepEqual(dx.decodeHardwareError(0x24), ['overheat', 'overload']);
});

test("dynamixel: two's complement registers", () => {
  assert.deepEqual([...dx.encodeRegister('Homing_Offset', -1)], [0xff, 0xff, 0xff, 0xff]);
  assert.equal(dx.decodeRegister('Present_Position', hex('FE FF FF FF')), -2);
  assert.equal(dx.decodeRegister('Present_Current', hex('FF FF')), -1);
  assert.equal(dx.decodeRegister('Present_Input_Voltage', hex('FF 00')), 255);
});
