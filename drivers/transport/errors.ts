/**
 * Typed driver errors. Each carries a stable `code` (one of the API's error codes, so
 * `toErrorData` in main/common passes it through unchanged), a finer `kind`, and an
 * operator-facing message that says which servo / register / port and what to check.
 * Pure: no I/O.
 */
export type DriverErrorCode =
  | 'communication_error'
  | 'motor_fault'
  | 'calibration_error'
  | 'not_connected'
  | 'already_connected'
  | 'io_error'
  | 'not_found'
  | 'timeout';

export class DriverError extends Error {
  readonly code: DriverErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: DriverErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DriverError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

export type CommunicationKind = 'timeout' | 'corrupt' | 'unexpected_id' | 'port_closed';

/** A transfer failed (no reply, bad checksum, reply from the wrong servo). Usually worth a retry. */
export class CommunicationError extends DriverError {
  readonly kind: CommunicationKind;
  readonly retryable: boolean;
  constructor(kind: CommunicationKind, message: string, details?: Record<string, unknown>, retryable = kind !== 'port_closed') {
    super('communication_error', message, { kind, ...details });
    this.name = 'CommunicationError';
    this.kind = kind;
    this.retryable = retryable;
  }
}

/** The call was cancelled because the port closed while it was in flight. */
export class CanceledError extends DriverError {
  constructor(message = 'The serial port was closed while a transfer was in flight.') {
    super('io_error', message, { kind: 'canceled' });
    this.name = 'CanceledError';
  }
}

export type PortAccessKind = 'permission' | 'busy' | 'not_found' | 'other';

/** Opening a serial port failed; the message says what the operator can do about it. */
export class PortAccessError extends DriverError {
  readonly kind: PortAccessKind;
  readonly path: string;
  constructor(kind: PortAccessKind, path: string, message: string, cause?: string) {
    super(kind === 'not_found' ? 'not_found' : 'io_error', message, { kind, path, ...(cause ? { cause } : {}) });
    this.name = 'PortAccessError';
    this.kind = kind;
    this.path = path;
  }
}

export class DeviceNotConnectedError extends DriverError {
  constructor(what: string) {
    super('not_connected', `${what} is not connected. Connect it first.`);
    this.name = 'DeviceNotConnectedError';
  }
}

export class DeviceAlreadyConnectedError extends DriverError {
  constructor(what: string) {
    super('already_connected', `${what} is already connected. Disconnect it first.`);
    this.name = 'DeviceAlreadyConnectedError';
  }
}

/** Maps an error from opening a port (serialport / libc) to a PortAccessError with advice. Pure. */
export function portOpenError(path: string, err: unknown): PortAccessError {
  const msg = err instanceof Error ? err.message : String(err);
  const errno = (err as { code?: unknown } | undefined)?.code;
  const has = (re: RegExp): boolean => re.test(msg) || (typeof errno === 'string' && re.test(errno));
  if (has(/EACCES|EPERM|Permission denied|Access denied/i)) {
    return new PortAccessError(
      'permission',
      path,
      `No permission to open ${path}. On Linux add your user to the serial group (sudo usermod -aG dialout $USER, then log out and in) or install a udev rule giving the adapter mode 0666; on macOS/Windows check the driver is installed.`,
      msg,
    );
  }
  if (has(/EBUSY|Cannot lock port|Resource temporarily unavailable|EAGAIN|busy/i)) {
    return new PortAccessError(
      'busy',
      path,
      `${path} is in use by another program (another Reins window, a LeRobot script, Arduino IDE, ModemManager or a serial monitor). Close it and try again.`,
      msg,
    );
  }
  if (has(/ENOENT|No such file|not found|cannot find/i)) {
    return new PortAccessError('not_found', path, `${path} does not exist. Check the USB cable and power, then refresh the port list.`, msg);
  }
  return new PortAccessError('other', path, `Could not open ${path}: ${msg}`, msg);
}
