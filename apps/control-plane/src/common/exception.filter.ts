import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { ApiError } from './api-error';
import { type JsonLogger } from './json-logger';
import { type PalisadeRequest } from './request-context';

interface JsonResponse {
  headersSent: boolean;
  status(code: number): JsonResponse;
  json(body: unknown): void;
}

/** Errors raised by Express's body parser carry a `type`; map them to stable codes. */
const BODY_PARSER_CODES: Record<string, string> = {
  'entity.parse.failed': 'body_malformed',
  'entity.too.large': 'payload_too_large',
  'encoding.unsupported': 'unsupported_encoding',
  'charset.unsupported': 'unsupported_encoding',
  'request.aborted': 'request_aborted',
  'entity.verify.failed': 'body_malformed',
  'request.size.invalid': 'body_malformed',
  'stream.encoding.set': 'body_malformed',
  'parameters.too.many': 'body_malformed',
};

function bodyParserType(e: unknown): string | null {
  for (const x of [e, (e as { cause?: unknown })?.cause]) {
    const type = (x as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && type in BODY_PARSER_CODES) {
      return type;
    }
  }
  return null;
}

/** Postgres error classes that can only come from input we failed to refuse earlier: 4xx, not 500. */
function fromDatabase(e: QueryFailedError): ApiError | null {
  const code = (e.driverError as { code?: string } | undefined)?.code ?? '';
  if (code === '23505') {
    return new ApiError(HttpStatus.CONFLICT, 'conflict', 'an object with this name already exists');
  }
  if (code === '23503') {
    return new ApiError(HttpStatus.CONFLICT, 'conflict', 'the object is still referenced, or refers to something missing');
  }
  if (code === '40001' || code === '40P01') {
    return new ApiError(HttpStatus.CONFLICT, 'conflict', 'a concurrent change conflicted with this one; retry');
  }
  if (code.startsWith('22')) {
    return new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', 'a value is out of range or malformed');
  }
  return null;
}

/**
 * The one exception filter: every error leaves as { statusCode, code, message, requestId, details? }.
 * A 500 says nothing about its cause; the log line with the same requestId does.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: JsonLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<PalisadeRequest>();
    const res = ctx.getResponse<JsonResponse>();
    const err = this.toApiError(exception);
    const requestId = req.requestId ?? 'unknown';
    if (err.status >= 500) {
      this.logger.emit('error', 'request failed', 'http', {
        requestId,
        method: req.method,
        path: req.originalUrl?.split('?')[0],
        error: exception instanceof Error ? exception.message : String(exception),
        stack: exception instanceof Error ? exception.stack : undefined,
      });
    }
    if (res.headersSent) {
      return;
    }
    res.status(err.status).json({
      statusCode: err.status,
      code: err.code,
      message: err.message,
      requestId,
      ...(err.details === undefined ? {} : { details: err.details }),
    });
  }

  private toApiError(e: unknown): ApiError {
    if (e instanceof ApiError) {
      return e;
    }
    if (e instanceof QueryFailedError) {
      return fromDatabase(e) ?? new ApiError(HttpStatus.INTERNAL_SERVER_ERROR, 'internal', 'internal error');
    }
    // Nest wraps body-parser failures in an HttpException whose cause or response still carries `type`.
    const parserType = bodyParserType(e);
    if (parserType) {
      const status = parserType === 'entity.too.large' ? 413 : 400;
      const code = BODY_PARSER_CODES[parserType] ?? 'bad_request';
      return new ApiError(status, code, code === 'payload_too_large' ? 'the request body is too large' : 'the request body is not valid JSON');
    }
    if (e instanceof HttpException) {
      const status = e.getStatus();
      if (status === 400) {
        // Nest turns body-parser's SyntaxError (bad JSON) and Express's URIError (bad %-encoding) into a bare
        // BadRequestException; nothing else reaches here as a plain 400.
        return new ApiError(400, 'body_malformed', 'the request body is not valid JSON, or the URL is not validly encoded');
      }
      const code = status === 404 ? 'route_not_found' : status === 413 ? 'payload_too_large' : status < 500 ? 'bad_request' : 'internal';
      return new ApiError(status, code, status < 500 ? e.message : 'internal error');
    }
    const maybe = e as { status?: unknown; type?: unknown } | null;
    if (maybe && typeof maybe.status === 'number' && maybe.status >= 400 && maybe.status < 500) {
      const type = typeof maybe.type === 'string' ? maybe.type : '';
      const code = BODY_PARSER_CODES[type] ?? 'bad_request';
      const message = code === 'body_malformed' ? 'the request body is not valid JSON' : code === 'payload_too_large' ? 'the request body is too large' : 'bad request';
      return new ApiError(maybe.status, code, message);
    }
    return new ApiError(HttpStatus.INTERNAL_SERVER_ERROR, 'internal', 'internal error');
  }
}
