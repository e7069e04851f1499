// Normalisation and calibration files (pure). Expected numbers are worked by hand from the
// formulas in shared/specs/lerobot.md §3.5, not produced by the code under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize, unnormalize, normalizedRange, halfTurnHoming, type MotorCalibration } from '../../../drivers/motors/normalize';
import { parseCalibration, serializeCalibration, calibrationRelPath } from '../../../drivers/robots/calibration';
import { CalibrationError } from '../../../drivers/motors/errors';

const cal: MotorCalibration = { id: 1, drive_mode: 0, homing_offset: -1768, range_min: 625, range_max: 3337 };

const cases: [string, number, MotorCalibration, Parameters<typeof normalize>[2], boolean, number][] = [
  // mid = 1981; (2500-1981)*360/4095 = 45.626...
  ['degrees above mid', 2500, cal, 'degrees', true, (519 * 360) / 4095],
  ['degrees at mid', 1981, cal, 'degrees', true, 0],
  ['degrees below range is not clamped', 0, cal, 'degrees', true, (-1981 * 360) / 4095],
  ['0..100 mid', 1981, cal, 'range_0_100', true, 50],
  ['0..100 clamps below', 0, cal, 'range_0_100', true, 0],
  ['0..100 inverted by drive mode (Feetech)', 625, { ...cal, drive_mode: 1 }, 'range_0_100', true, 100],
  ['0..100 drive mode ignored (Dynamixel)', 625, { ...cal, drive_mode: 1 }, 'range_0_100', false, 0],
  ['-100..100 at max', 3337, cal, 'range_m100_100', true, 100],
];
for (const [name, raw, c, mode, drive, want] of cases) test(`normalize: ${name}`, () => assert.ok(Math.abs(normalize(raw, c, mode, drive) - want) < 1e-9));

test('unnormalize truncates toward zero like int()', () => {
  assert.equal(unnormalize(45, cal, 'degrees', true), Math.trunc((45 * 4095) / 360 + 1981)); // 2492
  assert.equal(unnormalize(50, cal, 'range_0_100', true), 1981);
  assert.equal(unnormalize(150, cal, 'range_0_100', true), 3337);
  assert.equal(unnormalize(0, { ...cal, drive_mode: 1 }, 'range_0_100', true), 3337);
});

test('normalizedRange in degrees is the calibrated range around its midpoint', () => {
  const r = normalizedRange(cal, 'degrees');
  assert.ok(Math.abs(r.max - (1356 * 360) / 4095) < 1e-9);
  assert.ok(Math.abs(r.min + (1356 * 360) / 4095) < 1e-9);
});

test('half-turn homing: Feetech pos-2047, Dynamixel 2047-pos', () => {
  assert.equal(halfTurnHoming('feetech', 3000), 953);
  assert.equal(halfTurnHoming('dynamixel', 3000), -953);
});

const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'].map((name, i) => ({ name, id: i + 1 }));
// A LeRobot calibration file as written by draccus (field names and layout from the spec §3.1).
const LEROBOT_FILE = `{
    "shoulder_pan": {"id": 1, "drive_mode": 0, "homing_offset": -1768, "range_min": 625, "range_max": 3337},
    "shoulder_lift": {"id": 2, "drive_mode": 0, "homing_offset": 120, "range_min": 800, "range_max": 3200},
    "elbow_flex": {"id": 3, "drive_mode": 0, "homing_offset": -30, "range_min": 900, "range_max": 3100},
    "wrist_flex": {"id": 4, "drive_mode": 0, "homing_offset": 400, "range_min": 850, "range_max": 3250},
    "wrist_roll": {"id": 5, "drive_mode": 0, "homing_offset": -5, "range_min": 0, "range_max": 4095},
    "gripper": {"id": 6, "drive_mode": 0, "homing_offset": 1000, "range_min": 2000, "range_max": 3400}
}`;

test('parseCalibration accepts a LeRobot file and round-trips it', () => {
  const c = parseCalibration(JSON.parse(LEROBOT_FILE), JOINTS);
  assert.equal(c['gripper']!.range_max, 3400);
  assert.deepEqual(JSON.parse(serializeCalibration(c)), JSON.parse(LEROBOT_FILE));
});

test('parseCalibration lists every problem in one CalibrationError', () => {
  const bad = JSON.parse(LEROBOT_FILE);
  delete bad.gripper;
  bad.elbow_flex.range_min = 4000;
  bad.wrist_flex.id = 9;
  bad.extra = {};
  assert.throws(
    () => parseCalibration(bad, JOINTS, 'so101.json'),
    (e: unknown) => e instanceof CalibrationError && e.code === 'calibration_error' && /gripper' is missing/.test(e.message) && /elbow_flex: range_min 4000/.test(e.message) && /servo 4/.test(e.message) && /extra/.test(e.message),
  );
});

test('calibration path follows LeRobot layout and rejects path tricks', () => {
  assert.equal(calibrationRelPath('robots', 'so_follower', 'my_arm'), 'robots/so_follower/my_arm.json');
  assert.throws(() => calibrationRelPath('robots', 'so_follower', '../x'), CalibrationError);
});
