import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type Caller } from '../../common/request-context';
import { AuditLogEntity } from './auditlog.entity';

export interface AuditEntry {
  action: 'create' | 'update' | 'delete' | 'import' | 'rotate';
  kind: string;
  namespace: string;
  objectId?: string | null;
  objectName?: string | null;
  /** The object's API view before/after — never a secret (tokens are audited without their hash). */
  before?: unknown;
  after?: unknown;
}

export interface AuditLogView {
  id: string;
  at: string;
  actor: { tokenId: string | null; name: string };
  requestId: string | null;
  action: string;
  kind: string;
  namespace: string;
  objectId: string | null;
  objectName: string | null;
  before: unknown;
  after: unknown;
}

/** Writes audit records inside the mutation's own transaction, so an audit entry exists iff the change does. */
@Injectable()
export class AuditService {
  constructor(private readonly dataSource: DataSource) {}

  async record(em: EntityManager, caller: Caller | null, e: AuditEntry): Promise<void> {
    await this.recordMany(em, caller, [e]);
  }

  /** Several entries by one caller with one statement (group-committed writes such as enrollment). */
  async recordMany(em: EntityManager, caller: Caller | null, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) {
      return;
    }
    const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
    await em.query(
      `INSERT INTO audit_logs (actor_token_id, actor_name, request_id, action, kind, namespace, object_id, object_name, before, after)
       SELECT $1::uuid, $2::text, $3::text, e.action, e.kind, e.namespace, e.object_id, e.object_name, e.before, e.after
         FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::jsonb[])
           AS e(action, kind, namespace, object_id, object_name, before, after)`,
      [
        caller?.principal.tokenId ?? null,
        caller?.principal.name ?? 'system',
        caller?.requestId ?? null,
        entries.map((e) => e.action),
        entries.map((e) => e.kind),
        entries.map((e) => e.namespace),
        entries.map((e) => e.objectId ?? null),
        entries.map((e) => e.objectName ?? null),
        entries.map((e) => json(e.before)),
        entries.map((e) => json(e.after)),
      ],
    );
  }

  /** Newest first, limited to the caller's subtree. */
  async list(caller: Caller, o: { namespace: string; limit: number; beforeId?: string }): Promise<AuditLogView[]> {
    const prefix = o.namespace === '/' ? '/' : `${o.namespace}/`;
    const qb = this.dataSource
      .getRepository(AuditLogEntity)
      .createQueryBuilder('a')
      .where('(a.namespace = :ns OR starts_with(a.namespace, :prefix))', { ns: o.namespace, prefix })
      .orderBy('a.id', 'DESC')
      .limit(o.limit);
    if (o.beforeId) {
      qb.andWhere('a.id < :before', { before: o.beforeId });
    }
    const rows = await qb.getMany();
    return rows.map((r) => ({
      id: String(r.id),
      at: r.at.toISOString(),
      actor: { tokenId: r.actorTokenId, name: r.actorName },
      requestId: r.requestId,
      action: r.action,
      kind: r.kind,
      namespace: r.namespace,
      objectId: r.objectId,
      objectName: r.objectName,
      before: r.before,
      after: r.after,
    }));
  }
}
