import { type CanActivate, type ExecutionContext, HttpStatus, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/api-error';
import { type PalisadeRequest } from '../common/request-context';
import { ApiTokenEntity } from '../modules/apitokens/apitoken.entity';
import {
  AGENT_AUTHENTICATED_KEY,
  AGENT_AUTHENTICATOR,
  type AgentAuthenticator,
  AUTHORIZE_KEY,
  ENROLLMENT_TOKEN_KEY,
  PUBLIC_KEY,
} from './authorize.decorator';
import { hashToken, hasRole, type Principal, type Role } from './principal';

const unauthenticated = () =>
  new ApiError(HttpStatus.UNAUTHORIZED, 'unauthenticated', 'a valid bearer token is required');

/**
 * The global guard. A route without @Authorize, @AgentAuthenticated or @Public is refused (fail closed)
 * — and a test walks every route so none ships that way.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly dataSource: DataSource,
    @Optional() @Inject(AGENT_AUTHENTICATOR) private readonly agentAuth?: AgentAuthenticator,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    const req = ctx.switchToHttp().getRequest<PalisadeRequest>();
    const role = this.reflector.getAllAndOverride<Role | undefined>(AUTHORIZE_KEY, targets);
    if (role) {
      const principal = await this.authenticate(req);
      if (!hasRole(principal, role)) {
        throw new ApiError(HttpStatus.FORBIDDEN, 'forbidden', `this action needs the ${role} role`);
      }
      req.principal = principal;
      return true;
    }
    if (this.reflector.getAllAndOverride<boolean | undefined>(AGENT_AUTHENTICATED_KEY, targets)) {
      if (this.agentAuth && (await this.agentAuth.authenticate(req))) {
        return true;
      }
      throw new ApiError(HttpStatus.UNAUTHORIZED, 'unauthenticated', 'a valid agent certificate is required');
    }
    if (
      this.reflector.getAllAndOverride<boolean | undefined>(ENROLLMENT_TOKEN_KEY, targets) ||
      this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets)
    ) {
      return true;
    }
    throw new ApiError(HttpStatus.FORBIDDEN, 'forbidden', 'route has no authorization policy');
  }

  private async authenticate(req: PalisadeRequest): Promise<Principal> {
    const header = req.headers['authorization'];
    const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header) : null;
    if (!m) {
      throw unauthenticated();
    }
    const row = await this.dataSource
      .getRepository(ApiTokenEntity)
      .findOne({ where: { tokenHash: hashToken(m[1]) } });
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) {
      throw unauthenticated();
    }
    return { tokenId: row.id, name: row.name, role: row.role, namespace: row.namespace };
  }
}
