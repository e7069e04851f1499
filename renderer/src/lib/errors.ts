/**
 * The error an invoke rejects with on either transport: the host's {code, message} as an Error.
 * The message is already written for the operator (what failed, what to check).
 */
import type { ApiErrorData, ErrorCode } from '../../../main/common/errors';

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(data: ApiErrorData) {
    super(data.message);
    this.name = 'ApiError';
    this.code = data.code;
    if (data.details !== undefined) this.details = data.details;
  }
}

/** Best-effort ApiErrorData from anything thrown (an ApiError, an Error, a bridge error string). */
export function errorData(err: unknown): ApiErrorData {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  if (e !== null && e !== undefined && typeof e === 'object' && typeof e.message === 'string') {
    return { code: (typeof e.code === 'string' ? e.code : 'internal') as ErrorCode, message: e.message };
  }
  return { code: 'internal', message: String(err) };
}

/** The operator-facing text of an error. */
export function errorMessage(err: unknown): string {
  return errorData(err).message;
}
