/**
 * Error codes and the error shape that crosses the API boundary as data.
 * Pure: shared by main and renderer.
 */
export const ERROR_CODES = [
  'bad_request', // a payload failed validation
  'unknown_channel', // no such invoke/command name
  'payload_too_large',
  'rate_limited',
  'unauthorized',
  'not_connected',
  'already_connected',
  'busy',
  'not_found',
  'io_error',
  'timeout',
  'communication_error',
  'motor_fault',
  'calibration_error',
  'bundle_invalid',
  'policy_error',
  'recording_error',
  'disk_full',
  'cancelled', // the operator cancelled the operation
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What an error looks like on the wire: never a stack trace, always a code and an operator-facing message. */
export interface ApiErrorData {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** A typed error thrown inside main; `toErrorData` turns it (or anything else) into ApiErrorData. */
export class ReinsError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ReinsError';
    this.code = code;
    this.details = details;
  }
}

export function toErrorData(err: unknown): ApiErrorData {
  if (err instanceof ReinsError) return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
  const anyErr = err as { code?: unknown; message?: unknown } | undefined;
  if (anyErr && typeof anyErr.code === 'string' && (ERROR_CODES as readonly string[]).includes(anyErr.code) && typeof anyErr.message === 'string') {
    return { code: anyErr.code as ErrorCode, message: anyErr.message };
  }
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}
