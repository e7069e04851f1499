/**
 * Calibration data and normalisation, applied in one place (as LeRobot's motors_bus
 * `_normalize` / `_unnormalize`; formulas in shared/specs/lerobot.md §3.5). Pure.
 *
 * DEGREES is relative to the calibrated range's midpoint; `int()` truncation toward zero is
 * kept so ticks match LeRobot's exactly. Drive mode is applied in software on Feetech only
 * (Dynamixel inverts in hardware via its Drive_Mode register).
 */
export type NormMode = 'degrees' | 'range_m100_100' | 'range_0_100';

/** One joint's calibration, with LeRobot's field names (raw ticks). */
export interface MotorCalibration {
  id: number;
  drive_mode: number;
  homing_offset: number;
  range_min: number;
  range_max: number;
}

export const TICKS_PER_REV = 4096;
const MAX_RES = TICKS_PER_REV - 1;

export function normalize(raw: number, cal: MotorCalibration, mode: NormMode, applyDrive: boolean): number {
  const { range_min: min, range_max: max } = cal;
  if (min === max) throw new RangeError(`joint id ${cal.id}: range_min == range_max (${min}); recalibrate`);
  const drive = applyDrive && cal.drive_mode !== 0;
  switch (mode) {
    case 'degrees': {
      const mid = (min + max) / 2;
      return ((raw - mid) * 360) / MAX_RES;
    }
    case 'range_m100_100': {
      const v = Math.min(Math.max(raw, min), max);
      const n = ((v - min) / (max - min)) * 200 - 100;
      return drive ? -n : n;
    }
    case 'range_0_100': {
      const v = Math.min(Math.max(raw, min), max);
      const n = ((v - min) / (max - min)) * 100;
      return drive ? 100 - n : n;
    }
  }
}

export function unnormalize(value: number, cal: MotorCalibration, mode: NormMode, applyDrive: boolean): number {
  const { range_min: min, range_max: max } = cal;
  if (min === max) throw new RangeError(`joint id ${cal.id}: range_min == range_max (${min}); recalibrate`);
  const drive = applyDrive && cal.drive_mode !== 0;
  switch (mode) {
    case 'degrees': {
      const mid = (min + max) / 2;
      return Math.trunc((value * MAX_RES) / 360 + mid);
    }
    case 'range_m100_100': {
      const n = Math.min(Math.max(drive ? -value : value, -100), 100);
      return Math.trunc(((n + 100) / 200) * (max - min) + min);
    }
    case 'range_0_100': {
      const n = Math.min(Math.max(drive ? 100 - value : value, 0), 100);
      return Math.trunc((n / 100) * (max - min) + min);
    }
  }
}

/** The normalised range a calibrated joint accepts. */
export function normalizedRange(cal: MotorCalibration, mode: NormMode): { min: number; max: number } {
  switch (mode) {
    case 'degrees': {
      const mid = (cal.range_min + cal.range_max) / 2;
      return { min: ((cal.range_min - mid) * 360) / MAX_RES, max: ((cal.range_max - mid) * 360) / MAX_RES };
    }
    case 'range_m100_100':
      return { min: -100, max: 100 };
    case 'range_0_100':
      return { min: 0, max: 100 };
  }
}

/**
 * Homing offset that makes the present position read the half turn (2047) at the pose the
 * arm is in now. Feetech: Present = Actual − Homing_Offset; Dynamixel: Present = Actual + Homing_Offset.
 */
export function halfTurnHoming(protocol: 'feetech' | 'dynamixel', present: number): number {
  const half = Math.trunc(MAX_RES / 2);
  return protocol === 'feetech' ? present - half : half - present;
}
