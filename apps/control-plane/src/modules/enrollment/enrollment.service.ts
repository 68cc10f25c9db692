import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { type VerifiedCsr } from '@palisade/pki';
import { decodeEnrollmentToken, encodeEnrollmentToken, ProtocolError } from '@palisade/protocol';
import { ApiError } from '../../common/api-error';
import { type Caller } from '../../common/request-context';
import { canSee } from '../../auth/principal';
import { TransactionService } from '../../database/transaction.service';
import { GroupCommit } from '../../database/group-commit';
import { AuditService } from '../audit/audit.service';
import { CaService } from '../ca/ca.service';
import { NamespaceEntity } from '../namespaces/namespace.entity';
import { agentCertificateRequest, checkCsr } from '../agents/agent-certificate';
import { recordIssued } from '../agents/issued-certificate.entity';
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

/** One enrollment waiting for its batch: the token's hash, the verified CSR and the sanitised host name. */
interface EnrollItem {
  secretHash: string;
  csr: VerifiedCsr;
  hostname: string;
}

/** The most enrollments one transaction writes: its token locks are held while it signs (~0.1 ms a certificate). */
const ENROLL_MAX_BATCH = 64;

/**
 * One-time enrollment. A token is 256 random bits shown once; the database holds its SHA-256 only.
 *
 * Enrollments are group-committed (database/group-commit.ts): the ones that arrive together are written by one
 * transaction, which locks their tokens (`SELECT … FOR UPDATE`, in id order so two batches never deadlock), hands
 * out each token's remaining uses in arrival order, issues the certificates, and writes the use counts, agents,
 * certificate records and audit entries with one multi-row statement each. So of N concurrent uses of a
 * single-use token exactly one succeeds, whichever batches they land in (the row lock serialises batches on
 * Postgres; PGlite runs one transaction at a time), and an agent exists iff its certificate record, audit entry
 * and token use do. The CSR is checked before anything is locked, so a bad request consumes nothing.
 */
@Injectable()
export class EnrollmentService {
  private readonly batches: GroupCommit<EnrollItem, EnrollResponse>;

  constructor(
    private readonly tx: TransactionService,
    private readonly audit: AuditService,
    private readonly ca: CaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // PGlite is one session: a second batch would only queue behind the first, and a longer queue makes the next
    // batch larger (one file-system commit for more certificates). Postgres commits batches side by side.
    this.batches = new GroupCommit((items) => this.enrollBatch(items), {
      maxBatch: ENROLL_MAX_BATCH,
      concurrency: config.databaseUrl === null ? 1 : 2,
    });
  }

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
    const csr = await checkCsr(dto.csr);
    const hostname = (dto.hostname ?? 'agent').replace(/[^\w.-]/g, '').slice(0, 253) || 'agent';
    return this.batches.submit({ secretHash: hashSecret(secret), csr, hostname });
  }

  /** One transaction for a batch of enrollments; one outcome per item (an ApiError for a refused token). */
  private enrollBatch(items: EnrollItem[]): Promise<(EnrollResponse | Error)[]> {
    return this.tx.run(async (em) => {
      const tokens = (await em.query(
        `SELECT id, token_hash, namespace, tags, max_uses - uses AS remaining FROM enrollment_tokens
          WHERE token_hash = ANY($1::text[]) AND uses < max_uses AND expires_at > now()
          ORDER BY id FOR UPDATE`,
        [[...new Set(items.map((i) => i.secretHash))]],
      )) as { id: string; token_hash: string; namespace: string; tags: string[]; remaining: number }[];
      const byHash = new Map(tokens.map((t) => [t.token_hash, { ...t, left: Number(t.remaining), taken: 0 }]));
      const granted: { at: number; token: { id: string; namespace: string; tags: string[] }; agentId: string; item: EnrollItem }[] = [];
      // null until the item's certificate is issued below; refused items get their error at once.
      const outcomes: (EnrollResponse | Error | null)[] = items.map((item, at) => {
        const token = byHash.get(item.secretHash);
        if (!token || token.taken >= token.left) {
          return tokenInvalid();
        }
        token.taken++;
        granted.push({ at, token, agentId: randomUUID(), item });
        return null;
      });
      if (granted.length === 0) {
        return outcomes as Error[];
      }
      const leaves = await Promise.all(
        granted.map((g) => this.ca.issue({ csr: g.item.csr, ...agentCertificateRequest({ id: g.agentId, namespace: g.token.namespace, hostname: g.item.hostname }) })),
      );
      const used = [...byHash.values()].filter((t) => t.taken > 0);
      await em.query(
        `UPDATE enrollment_tokens AS t SET uses = t.uses + u.n FROM unnest($1::uuid[], $2::int[]) AS u(id, n) WHERE t.id = u.id`,
        [used.map((t) => t.id), used.map((t) => t.taken)],
      );
      await em.query(
        `INSERT INTO agents (id, namespace, name, hostname, allowed_tags, enrollment_token_id)
         SELECT a.id, a.namespace, a.hostname, a.hostname, a.tags, a.token FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::uuid[])
             AS a(id, namespace, hostname, tags, token)`,
        [granted.map((g) => g.agentId), granted.map((g) => g.token.namespace), granted.map((g) => g.item.hostname), granted.map((g) => JSON.stringify(g.token.tags)), granted.map((g) => g.token.id)],
      );
      await recordIssued(
        em,
        granted.map((g, i) => ({ serial: leaves[i].serial, kind: 'agent', agentId: g.agentId, puId: null, namespace: g.token.namespace, notAfter: leaves[i].notAfter })),
      );
      // No change record: a new agent changes no other agent's rule set, and its own is compiled when it says
      // hello (which registers its processing units — those are changes). Enrollment stays cheap under load.
      await this.audit.recordMany(
        em,
        null,
        granted.map((g) => ({
          action: 'create',
          kind: 'agent',
          namespace: g.token.namespace,
          objectId: g.agentId,
          objectName: g.item.hostname,
          after: { id: g.agentId, namespace: g.token.namespace, hostname: g.item.hostname, enrollmentTokenId: g.token.id },
        })),
      );
      const trustBundle = this.ca.trustBundle();
      granted.forEach((g, i) => {
        outcomes[g.at] = {
          agentId: g.agentId,
          namespace: g.token.namespace,
          trustDomain: this.config.trustDomain,
          certificate: leaves[i].chainPem,
          trustBundle,
        };
      });
      return outcomes as (EnrollResponse | Error)[];
    });
  }
}
