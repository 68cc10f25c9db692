import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { decodeEnrollmentToken, encodeEnrollmentToken, normalizeSerial, ProtocolError } from '@palisade/protocol';
import { ApiError } from '../../common/api-error';
import { type Caller } from '../../common/request-context';
import { canSee } from '../../auth/principal';
import { TransactionService } from '../../database/transaction.service';
import { AuditService } from '../audit/audit.service';
import { CaService } from '../ca/ca.service';
import { NamespaceEntity } from '../namespaces/namespace.entity';
import { AgentEntity } from '../agents/agent.entity';
import { IssuedCertificateEntity } from '../agents/issued-certificate.entity';

import { agentCertificateRequest, checkCsr } from '../agents/agent-certificate';
import { EnrollmentTokenEntity } from './enrollment-token.entity';
import { type CreateEnrollmentTokenDto, type EnrollDto } from './dto/enrollment.dto';


export interface EnrollmentTokenView {
  id: string;
  token: string;
  namespace: string;
  expiresAt: string;
  maxUses: number;
  tags: string[];
}

export interface EnrollResponse {
  agentId: string;
  namespace: string;
  trustDomain: string;
  certificate: string;
  trustBundle: string[];
}

const hashSecret = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Unknown, expired, used up or revoked: one answer for all, so the API tells an attacker nothing. */
const tokenInvalid = () =>
  new ApiError(HttpStatus.UNAUTHORIZED, 'enrollment_token_invalid', 'the enrollment token is unknown, expired or already used');

/**
 * One-time enrollment. A token is 256 random bits shown once; the database holds its SHA-256 only. Redeeming it is
 * a single conditional UPDATE (`uses < max_uses AND expires_at > now()`), so of N concurrent uses of a single-use
 * token exactly one succeeds — the row lock serialises them on Postgres, and PGlite runs one transaction at a time.
 * The agent's certificate is issued from its CSR in the same transaction: no agent without a certificate, and no
 * consumed token without an agent.
 */
@Injectable()
export class EnrollmentService {
  constructor(
    private readonly tx: TransactionService,
    private readonly audit: AuditService,
    private readonly ca: CaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async createToken(caller: Caller, dto: CreateEnrollmentTokenDto, publicUrl: string): Promise<EnrollmentTokenView> {
    if (!canSee(caller.principal, dto.namespace)) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'namespace_not_found', `namespace ${dto.namespace} not found`, {
        field: 'namespace',
      });
    }
    const secret = randomBytes(32).toString('base64url');
    const ttl = dto.ttlSeconds ?? 600;
    const row = await this.tx.run(async (em) => {
      const ns = await em.getRepository(NamespaceEntity).findOne({ where: { name: dto.namespace } });
      if (!ns) {
        throw new ApiError(HttpStatus.NOT_FOUND, 'namespace_not_found', `namespace ${dto.namespace} not found`, {
          field: 'namespace',
        });
      }
      const t = em.getRepository(EnrollmentTokenEntity).create({
        id: randomUUID(),
        namespace: dto.namespace,
        tokenHash: hashSecret(secret),
        tags: [...new Set(dto.tags ?? [])].sort(),
        maxUses: dto.maxUses ?? 1,
        uses: 0,
        expiresAt: new Date(Date.now() + ttl * 1000),
        createdBy: caller.principal.name,
      });
      await em.getRepository(EnrollmentTokenEntity).insert(t);
      await this.audit.record(em, caller, {
        action: 'create',
        kind: 'enrollmenttoken',
        namespace: t.namespace,
        objectId: t.id,
        after: { id: t.id, namespace: t.namespace, tags: t.tags, maxUses: t.maxUses, expiresAt: t.expiresAt.toISOString() },
      });
      return t;
    });
    return {
      id: row.id,
      token: encodeEnrollmentToken({
        url: publicUrl,
        caFingerprint: await this.ca.rootFingerprint(),
        secret,
        expiresAt: row.expiresAt.toISOString(),
      }),
      namespace: row.namespace,
      expiresAt: row.expiresAt.toISOString(),
      maxUses: row.maxUses,
      tags: row.tags,
    };
  }

  async enroll(dto: EnrollDto): Promise<EnrollResponse> {
    let secret: string;
    try {
      secret = decodeEnrollmentToken(dto.token.trim()).secret;
    } catch (e) {
      if (e instanceof ProtocolError) {
        throw new ApiError(HttpStatus.BAD_REQUEST, 'token_malformed', e.message, { field: 'token' });
      }
      throw e;
    }
    await checkCsr(dto.csr);
    return this.tx.run(async (em) => {
      const rows = (await em.query(
        `UPDATE enrollment_tokens SET uses = uses + 1
          WHERE token_hash = $1 AND uses < max_uses AND expires_at > now()
          RETURNING id, namespace, tags`,
        [hashSecret(secret)],
      )) as unknown;
      // TypeORM returns [rows, count] for UPDATE … RETURNING on Postgres.
      const list = (Array.isArray(rows) && Array.isArray(rows[0]) ? rows[0] : rows) as {
        id: string;
        namespace: string;
        tags: string[];
      }[];
      const token = list[0];
      if (!token) {
        throw tokenInvalid();
      }
      const agentId = randomUUID();
      const hostname = (dto.hostname ?? 'agent').replace(/[^\w.-]/g, '').slice(0, 253) || 'agent';
      const leaf = await this.ca.issue({
        csrPem: dto.csr,
        ...agentCertificateRequest({ id: agentId, namespace: token.namespace, hostname }),
      });
      await em.getRepository(AgentEntity).insert({
        id: agentId,
        namespace: token.namespace,
        name: hostname,
        hostname,
        allowedTags: token.tags,
        enrollmentTokenId: token.id,
        revokedAt: null,
        connected: false,
        capabilities: [],
      });
      await em.getRepository(IssuedCertificateEntity).insert({
        serial: normalizeSerial(leaf.serial),
        kind: 'agent',
        agentId,
        puId: null,
        namespace: token.namespace,
        notAfter: leaf.notAfter,
        revokedAt: null,
      });
      // No change record: a new agent changes no other agent's rule set, and its own is compiled when it says
      // hello (which registers its processing units — those are changes). Enrollment stays cheap under load.
      await this.audit.record(em, null, {
        action: 'create',
        kind: 'agent',
        namespace: token.namespace,
        objectId: agentId,
        objectName: hostname,
        after: { id: agentId, namespace: token.namespace, hostname, enrollmentTokenId: token.id },
      });
      return {
        agentId,
        namespace: token.namespace,
        trustDomain: this.config.trustDomain,
        certificate: leaf.chainPem,
        trustBundle: await this.ca.trustBundle(),
      };
    });
  }
}
