import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../../common/api-error';

export type NamespaceErrorCode = 'namespace_not_empty' | 'namespace_exists' | 'namespace_protected' | 'namespace_immutable';

/** Namespace-specific errors; the status follows from the code (exhaustive switch). */
export function namespaceError(code: NamespaceErrorCode, message: string, details?: unknown): ApiError {
  return new ApiError(statusOf(code), code, message, details);
}

function statusOf(code: NamespaceErrorCode): HttpStatus {
  switch (code) {
    case 'namespace_not_empty':
    case 'namespace_exists':
      return HttpStatus.CONFLICT;
    case 'namespace_protected':
      return HttpStatus.FORBIDDEN;
    case 'namespace_immutable':
      return HttpStatus.BAD_REQUEST;
  }
}
