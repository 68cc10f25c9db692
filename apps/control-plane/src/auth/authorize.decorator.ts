import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { type Role } from './principal';

export const AUTHORIZE_KEY = 'palisade:authorize';
export const AGENT_AUTHENTICATED_KEY = 'palisade:agent-authenticated';
export const PUBLIC_KEY = 'palisade:public';
export const ENROLLMENT_TOKEN_KEY = 'palisade:enrollment-token';

/** A human/automation route: needs a bearer API token whose role is at least `role`. */
export const Authorize = (role: Role) => applyDecorators(SetMetadata(AUTHORIZE_KEY, role), ApiBearerAuth());

/**
 * An agent route: the caller is authenticated by the agent's client certificate on the TLS connection,
 * not by a bearer token. The guard delegates to the provider bound to AGENT_AUTHENTICATOR; while none is
 * bound, such routes refuse every caller (fail closed).
 */
export const AgentAuthenticated = () => SetMetadata(AGENT_AUTHENTICATED_KEY, true);

/**
 * A route authenticated by a one-time enrollment token carried in the request body (POST /v1/enroll):
 * the guard lets the request through and the handler's service must verify the token before acting.
 */
export const EnrollmentTokenAuthenticated = () => SetMetadata(ENROLLMENT_TOKEN_KEY, true);

/**
 * Unauthenticated on purpose (health, readiness, metrics, API docs): probes and scrapers carry no token,
 * and these routes expose no tenant data. Never used under /v1.
 */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Injection token for the agent certificate check (bound by the agents module). */
export const AGENT_AUTHENTICATOR = Symbol('AGENT_AUTHENTICATOR');

/** Decides whether a request on an @AgentAuthenticated route comes from a valid agent; may attach identity. */
export interface AgentAuthenticator {
  authenticate(req: unknown): Promise<boolean>;
}
