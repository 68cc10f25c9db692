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
    await em.insert(AuditLogEntity, {
      actorTokenId: caller?.principal.tokenId ?? null,
      actorName: caller?.principal.name ?? 'system',
      requestId: caller?.requestId ?? null,
      action: e.action,
      kind: e.kind,
      namespace: e.namespace,
      objectId: e.objectId ?? null,
      objectName: e.objectName ?? null,
      before: (e.before === undefined ? null : JSON.parse(JSON.stringify(e.before))) as never,
      after: (e.after === undefined ? null : JSON.parse(JSON.stringify(e.after))) as never,
    });
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
