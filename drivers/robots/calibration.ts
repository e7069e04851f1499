/**
 * Calibration files: LeRobot's format (one object per joint name with exactly id, drive_mode,
 * homing_offset, range_min, range_max in raw ticks), parsing with operator-facing errors,
 * import of an existing LeRobot file, and the LeRobot-style path layout. Pure (no I/O).
 */
import { CalibrationError } from '../motors/errors';
import type { MotorCalibration } from '../motors/normalize';

export type { MotorCalibration } from '../motors/normalize';
export type CalibrationFile = Record<string, MotorCalibration>;

const FIELDS = ['id', 'drive_mode', 'homing_offset', 'range_min', 'range_max'] as const;

/**
 * Validates a calibration object (e.g. JSON.parse of a LeRobot calibration file) against the
 * arm's joints. Lists every problem at once.
 */
export function parseCalibration(json: unknown, joints: readonly { name: string; id: number }[], source = 'calibration'): CalibrationFile {
  const problems: string[] = [];
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CalibrationError(`${source} is not a JSON object of joints.`);
  const obj = json as Record<string, unknown>;
  const out: CalibrationFile = {};
  for (const j of joints) {
    const entry = obj[j.name];
    if (typeof entry !== 'object' || entry === null) {
      problems.push(`joint '${j.name}' is missing`);
      continue;
    }
    const e = entry as Record<string, unknown>;
    const cal: Partial<MotorCalibration> = {};
    for (const f of FIELDS) {
      const v = e[f];
      if (typeof v !== 'number' || !Number.isInteger(v)) problems.push(`${j.name}.${f} must be an integer (got ${JSON.stringify(v)})`);
      else cal[f] = v;
    }
    if (cal.id !== undefined && cal.id !== j.id) problems.push(`${j.name}.id is ${cal.id}, this arm has it on servo ${j.id}`);
    if (cal.range_min !== undefined && cal.range_max !== undefined && cal.range_min >= cal.range_max) problems.push(`${j.name}: range_min ${cal.range_min} >= range_max ${cal.range_max}`);
    if (FIELDS.every((f) => cal[f] !== undefined)) out[j.name] = cal as MotorCalibration;
  }
  const extra = Object.keys(obj).filter((k) => !joints.some((j) => j.name === k));
  if (extra.length) problems.push(`unknown joint(s): ${extra.join(', ')}`);
  if (problems.length) throw new CalibrationError(`${source} does not fit this arm: ${problems.join('; ')}. Recalibrate or pick the file made for this arm type.`, { problems });
  return out;
}

/** JSON text as LeRobot writes it (draccus dump, 4-space indent). */
export function serializeCalibration(cal: CalibrationFile): string {
  return JSON.stringify(cal, null, 4);
}

export function calibrationEqual(a: CalibrationFile, b: CalibrationFile, fields: readonly (keyof MotorCalibration)[] = FIELDS): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && fields.every((f) => a[k]![f] === b[k]![f]));
}

/** LeRobot's layout under a calibration root: robots/<name>/<id>.json or teleoperators/<name>/<id>.json. */
export function calibrationRelPath(kind: 'robots' | 'teleoperators', name: string, id: string): string {
  if (!/^[\w.-]+$/.test(id)) throw new CalibrationError(`Arm id '${id}' may only use letters, digits, '_', '-', '.'.`);
  return `${kind}/${name}/${id}.json`;
}
