import { randomUUID } from 'node:crypto';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type TLSSocket } from 'node:tls';
import { type Principal } from '../auth/principal';

/**
 * The parts of the Express request the control plane uses (declared here because the project does not
 * depend on @types/express). `requestId` and `principal` are set by the middleware and the auth guard.
 */
export interface PalisadeRequest {
  method: string;
  originalUrl: string;
  headers: Record<string, string | string[] | undefined>;
  socket: TLSSocket;
  body?: unknown;
  requestId: string;
  principal?: Principal;
}

/** Who is calling, as services receive it: the authenticated principal plus the request id for the audit log. */
export interface Caller {
  principal: Principal;
  requestId: string;
}

/** Accepts a caller's X-Request-Id only if it is short and printable; otherwise makes one. */
export function requestIdFor(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v && /^[A-Za-z0-9._:-]{1,64}$/.test(v) ? v : randomUUID();
}

/** Controller parameter: the Caller of a route guarded by @Authorize (the guard guarantees a principal). */
export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const req = ctx.switchToHttp().getRequest<PalisadeRequest>();
  if (!req.principal) {
    // Only reachable if a route forgot @Authorize — the route-walk test prevents that.
    throw new Error('CurrentCaller used on a route without @Authorize');
  }
  return { principal: req.principal, requestId: req.requestId };
});
