/**
 * Motor- and calibration-level typed errors (transport-level ones are in ../transport/errors).
 */
import { DriverError } from '../transport/errors';

export { CommunicationError, DeviceNotConnectedError, DeviceAlreadyConnectedError, PortAccessError, CanceledError, DriverError } from '../transport/errors';

/** A servo answered, but its status byte reports a fault (overload, overheat, voltage...). Not retryable. */
export class MotorFaultError extends DriverError {
  readonly faults: readonly MotorFault[];
  constructor(faults: readonly MotorFault[], context: string) {
    const parts = faults.map((f) => `servo ${f.id}${f.joint ? ` (${f.joint})` : ''}${f.register ? `, register ${f.register}` : ''}: ${f.errorBits.join(', ')}${f.advice ? ` — ${f.advice}` : ''}`);
    super('motor_fault', `${context}: ${parts.join('; ')}.`, { faults: faults.map((f) => ({ ...f })) });
    this.name = 'MotorFaultError';
    this.faults = faults;
  }
}

export interface MotorFault {
  id: number;
  joint?: string;
  register?: string;
  errorBits: string[];
  advice?: string;
}

/** The servos on the bus are not the ones the arm needs (missing IDs, wrong model numbers). */
export class MotorCheckError extends DriverError {
  constructor(message: string, details: Record<string, unknown>) {
    super('not_found', message, details);
    this.name = 'MotorCheckError';
  }
}

export class CalibrationError extends DriverError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('calibration_error', message, details);
    this.name = 'CalibrationError';
  }
}

/**
 * Turning torque off failed on some servos (the others were turned off: every servo is tried).
 * The operator must support the arm and cut its power.
 */
export class TorqueOffError extends DriverError {
  readonly failures: readonly { id: number; joint: string; message: string }[];
  constructor(failures: readonly { id: number; joint: string; message: string }[], path: string) {
    const who = failures.map((f) => `servo ${f.id} (${f.joint}): ${f.message}`).join('; ');
    super(
      'communication_error',
      `Torque could not be turned off on ${failures.length} servo(s) on ${path} — ${who}. Every other servo was turned off. Support the arm and switch off its power supply before touching it; then check the cables of the servos named.`,
      { failures: failures.map((f) => ({ ...f })) },
    );
    this.name = 'TorqueOffError';
    this.failures = failures;
  }
}

/** One fault per servo (the first reported), in the order the servos first appear. */
export function dedupeFaults(faults: readonly MotorFault[]): MotorFault[] {
  const seen = new Map<number, MotorFault>();
  for (const f of faults) if (!seen.has(f.id)) seen.set(f.id, f);
  return [...seen.values()];
}
