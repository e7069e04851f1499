/**
 * Puts a calibration (from a file, or LeRobot's) on an arm's motors: nothing is written when the
 * motors already hold it (EEPROM wears, and a write needs torque off); otherwise it is written.
 * Shared by followers and leaders.
 */
import type { MotorGroup } from '../motors/MotorGroup';
import { calibrationEqual, parseCalibration, type CalibrationFile } from './calibration';

export async function applyCalibrationToMotors<R extends string>(group: MotorGroup<R>, cal: CalibrationFile, joints: readonly { name: string; id: number }[]): Promise<'matched' | 'written'> {
  const parsed = parseCalibration(cal, joints);
  const onMotors = await group.readCalibration();
  // Feetech servos store no drive mode: compare only what they hold.
  const fields = group.protocol === 'feetech' ? (['homing_offset', 'range_min', 'range_max'] as const) : undefined;
  if (calibrationEqual(parsed, onMotors, fields)) {
    group.calibration = structuredClone(parsed);
    return 'matched';
  }
  await group.writeCalibration(parsed);
  return 'written';
}
