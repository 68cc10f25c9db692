import { HttpStatus } from '@nestjs/common';

/** One validation problem: the field path as the client wrote it (`data.services[0].exposedPort`). */
export interface FieldError {
  field: string;
  code: string;
  message: string;
}

/**
 * Every error the API returns on purpose. The exception filter renders it as
 * `{ statusCode, code, message, requestId, details? }`; `code` is stable, `message` is for people.
 */
export class ApiError extends Error {
  constructor(
    readonly status: HttpStatus,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400 validation_failed with one entry per bad field. */
export function validationError(details: FieldError[]): ApiError {
  const first = details[0];
  const message = first ? `${first.field}: ${first.message}` : 'invalid input';
  return new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', message, details);
}

/** Used in the default branch of an exhaustive switch: a compile error if a case is missing. */
export function assertUnreachable(x: never): never {
  throw new Error(`unreachable: ${String(x)}`);
}
