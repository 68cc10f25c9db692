import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { canSee, generateToken, hashToken, hasRole } from '../../auth/principal';
import { ApiError, validationError } from '../../common/api-error';
import { type Caller } from '../../common/request-context';
import { assertNamespaceVisible, subtreeWhere, UUID } from '../../common/resource.service';
import { TransactionService } from '../../database/transaction.service';
import { AuditService } from '../audit/audit.service';
import { ApiTokenEntity } from './apitoken.entity';
import { type ApiTokenView, type CreateApiTokenDto, type CreatedApiTokenView } from './dto/apitoken.dto';

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

const view = (e: ApiTokenEntity): ApiTokenView => ({
  id: e.id,
  name: e.name,
  role: e.role,
  namespace: e.namespace,
  createdBy: e.createdBy,
  expiresAt: e.expiresAt ? e.expiresAt.toISOString() : null,
  createTime: e.createTime.toISOString(),
});

@Injectable()
export class ApiTokensService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionService,
    private readonly audit: AuditService,
  ) {}

  create(caller: Caller, dto: CreateApiTokenDto): Promise<CreatedApiTokenView> {
    return this.tx.run(async (em) => {
      const ns = dto.namespace ?? caller.principal.namespace;
      await assertNamespaceVisible(em, caller, ns);
      if (!hasRole(caller.principal, dto.role)) {
        throw new ApiError(HttpStatus.FORBIDDEN, 'forbidden', `you cannot grant the ${dto.role} role`);
      }
      const expiresAt = dto.expiresAt === undefined ? null : new Date(dto.expiresAt);
      if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
        throw validationError([{ field: 'expiresAt', code: 'expires_in_past', message: 'expiresAt must be in the future' }]);
      }
      const token = generateToken();
      const e = await this.insert(em, { name: dto.name, role: dto.role, namespace: ns, tokenHash: hashToken(token), createdBy: caller.principal.name, expiresAt });
      await this.audit.record(em, caller, { action: 'create', kind: 'apitoken', namespace: ns, objectId: e.id, objectName: e.name, after: view(e) });
      return { ...view(e), token };
    });
  }

  async list(caller: Caller): Promise<ApiTokenView[]> {
    const [w, p] = subtreeWhere('t', caller.principal.namespace);
    const rows = await this.dataSource.getRepository(ApiTokenEntity).createQueryBuilder('t').where(w, p).orderBy('t.create_time', 'ASC').getMany();
    return rows.map(view);
  }

  remove(caller: Caller, id: string): Promise<void> {
    return this.tx.run(async (em) => {
      const row = UUID.test(id) ? await em.getRepository(ApiTokenEntity).findOneBy({ id }) : null;
      if (!row || !canSee(caller.principal, row.namespace)) {
        throw new ApiError(HttpStatus.NOT_FOUND, 'apitoken_not_found', `API token ${id} not found`);
      }
      await em.delete(ApiTokenEntity, { id });
      await this.audit.record(em, caller, { action: 'delete', kind: 'apitoken', namespace: row.namespace, objectId: id, objectName: row.name, before: view(row) });
    });
  }

  /**
   * First start: makes sure a bootstrap admin token on `/` exists. With `adminToken` (PALISADE_ADMIN_TOKEN)
   * that token is registered (if no token with its hash exists yet); otherwise, when there is no bootstrap
   * token at all, one is generated and returned so the caller can write it to the data directory.
   * Runs under an advisory lock so two replicas starting together create it once.
   */
  bootstrapAdmin(adminToken: string | null): Promise<{ generated: string | null }> {
    return this.tx.run(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
      if (adminToken) {
        const hash = hashToken(adminToken);
        if (!(await em.getRepository(ApiTokenEntity).findOneBy({ tokenHash: hash }))) {
          await this.insert(em, { name: BOOTSTRAP_TOKEN_NAME, role: 'admin', namespace: '/', tokenHash: hash, createdBy: null, expiresAt: null });
        }
        return { generated: null };
      }
      if (await em.getRepository(ApiTokenEntity).findOneBy({ name: BOOTSTRAP_TOKEN_NAME, namespace: '/' })) {
        return { generated: null };
      }
      const token = generateToken();
      await this.insert(em, { name: BOOTSTRAP_TOKEN_NAME, role: 'admin', namespace: '/', tokenHash: hashToken(token), createdBy: null, expiresAt: null });
      return { generated: token };
    });
  }

  private async insert(em: EntityManager, f: Omit<ApiTokenEntity, 'id' | 'createTime'>): Promise<ApiTokenEntity> {
    const e = Object.assign(new ApiTokenEntity(), f, { id: randomUUID(), createTime: new Date() });
    await em.insert(ApiTokenEntity, e);
    return e;
  }
}

/** Advisory-lock key for one-time bootstrap steps (admin token); any constant unique to Palisade. */
export const BOOTSTRAP_LOCK = 7_270_001;
