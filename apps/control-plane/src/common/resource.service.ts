import { randomUUID } from 'node:crypto';
import { HttpStatus } from '@nestjs/common';
import { type DataSource, type EntityManager, type ObjectLiteral } from 'typeorm';
import { canSee } from '../auth/principal';
import { type ChangeKind, type ChangeService } from '../database/change.service';
import { type TransactionService } from '../database/transaction.service';
import { type AuditService } from '../modules/audit/audit.service';
import { ApiError } from './api-error';
import { type BaseObjectDto, type BaseView } from './base.dto';
import { type NamespacedEntity } from './base.entity';
import { type Caller } from './request-context';

/** What a concrete resource (PUs, policies, services) tells the shared service about itself. */
export interface ResourceSpec<E extends NamespacedEntity, D extends BaseObjectDto, V extends BaseView> {
  kind: ChangeKind;
  entity: new () => E;
  /** Human name in messages: "processing unit". */
  label: string;
  /** Copies the validated, user-settable fields of `dto` onto `e`, normalised; `field` prefixes error paths. */
  assign(e: E, dto: D, field: string): void;
  view(e: E): V;
  /** The user-set fields only (no id, timestamps, version): the export format, which round-trips. */
  exportView(e: E): Record<string, unknown>;
}

export type UpsertResult = 'created' | 'updated' | 'unchanged';

/** The canonical form compared to decide whether an import changes an object. */
const sameContent = (a: Record<string, unknown>, b: Record<string, unknown>) => JSON.stringify(a) === JSON.stringify(b);

/** `(alias.namespace = ns OR starts_with(alias.namespace, ns/))` — the subtree of `ns`. */
export function subtreeWhere(alias: string, ns: string): [string, Record<string, string>] {
  return [
    `(${alias}.namespace = :subtreeNs OR starts_with(${alias}.namespace, :subtreePrefix))`,
    { subtreeNs: ns, subtreePrefix: ns === '/' ? '/' : `${ns}/` },
  ];
}

export const notFound = (label: string, what: string) =>
  new ApiError(HttpStatus.NOT_FOUND, `${label.replace(/ /g, '_')}_not_found`, `${label} ${what} not found`);

export const namespaceNotFound = (ns: string) =>
  new ApiError(HttpStatus.NOT_FOUND, 'namespace_not_found', `namespace ${ns} not found`);

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Create/read/update/delete/upsert for one namespaced resource, with the rules every resource shares:
 * tenant isolation (outside the caller's subtree = 404), unique names per namespace (409 name_taken),
 * optimistic versions (409 version_conflict), and for every write a change record and an audit record in
 * the same transaction.
 */
export class NamespacedResourceService<E extends NamespacedEntity & ObjectLiteral, D extends BaseObjectDto, V extends BaseView> {
  constructor(
    protected readonly spec: ResourceSpec<E, D, V>,
    protected readonly dataSource: DataSource,
    protected readonly tx: TransactionService,
    protected readonly changes: ChangeService,
    protected readonly audit: AuditService,
  ) {}

  async list(caller: Caller, q: { namespace?: string; recursive?: boolean; name?: string }): Promise<V[]> {
    const ns = q.namespace ?? caller.principal.namespace;
    await assertNamespaceVisible(this.dataSource.manager, caller, ns);
    const qb = this.dataSource.getRepository(this.spec.entity).createQueryBuilder('o');
    if (q.recursive) {
      const [w, p] = subtreeWhere('o', ns);
      qb.where(w, p);
    } else {
      qb.where('o.namespace = :ns', { ns });
    }
    if (q.name !== undefined) {
      qb.andWhere('o.name = :name', { name: q.name });
    }
    const rows = await qb.orderBy('o.namespace', 'ASC').addOrderBy('o.name', 'ASC').getMany();
    return rows.map((r) => this.spec.view(r));
  }

  async get(caller: Caller, id: string): Promise<V> {
    const row = UUID.test(id) ? await this.dataSource.getRepository(this.spec.entity).findOneBy({ id } as never) : null;
    if (!row || !canSee(caller.principal, row.namespace)) {
      throw notFound(this.spec.label, id);
    }
    return this.spec.view(row);
  }

  create(caller: Caller, dto: D, defaultNamespace?: string): Promise<V> {
    return this.tx.run(async (em) => {
      const ns = dto.namespace ?? defaultNamespace ?? caller.principal.namespace;
      await assertNamespaceVisible(em, caller, ns);
      await this.assertNameFree(em, ns, dto.name, null);
      const e = this.build(ns, dto);
      await em.insert(this.spec.entity, e as never);
      await this.recordWrite(em, caller, 'create', null, e);
      return this.spec.view(e);
    });
  }

  update(caller: Caller, id: string, dto: D & { version: number }): Promise<V> {
    return this.tx.run(async (em) => {
      const row = await this.lockVisible(em, caller, id);
      if (row.version !== dto.version) {
        throw new ApiError(
          HttpStatus.CONFLICT,
          'version_conflict',
          `${this.spec.label} ${id} is at version ${row.version}, not ${dto.version}`,
          { currentVersion: row.version },
        );
      }
      if (dto.namespace !== undefined && dto.namespace !== row.namespace) {
        throw new ApiError(HttpStatus.BAD_REQUEST, 'namespace_immutable', 'namespace: an object cannot move between namespaces', [
          { field: 'namespace', code: 'namespace_immutable', message: 'an object cannot move between namespaces' },
        ]);
      }
      if (dto.name !== row.name) {
        await this.assertNameFree(em, row.namespace, dto.name, row.id);
      }
      const before = this.spec.view(row);
      this.spec.assign(row, dto, '');
      row.name = dto.name;
      row.description = dto.description ?? '';
      row.version += 1;
      row.updateTime = new Date();
      await em.save(this.spec.entity, row as never);
      await this.recordWrite(em, caller, 'update', before, row);
      return this.spec.view(row);
    });
  }

  remove(caller: Caller, id: string): Promise<void> {
    return this.tx.run(async (em) => {
      const row = await this.lockVisible(em, caller, id);
      await this.deleteRow(em, caller, row);
    });
  }

  /** Import: insert or update by (namespace, name) inside the caller's transaction. */
  async upsertInTx(em: EntityManager, caller: Caller, ns: string, dto: D, field: string): Promise<UpsertResult> {
    const existing = await em
      .getRepository(this.spec.entity)
      .createQueryBuilder('o')
      .setLock('pessimistic_write')
      .where('o.namespace = :ns AND o.name = :name', { ns, name: dto.name })
      .getOne();
    if (!existing) {
      const e = this.build(ns, dto, field);
      await em.insert(this.spec.entity, e as never);
      await this.recordWrite(em, caller, 'create', null, e);
      return 'created';
    }
    const candidate = this.build(ns, dto, field);
    if (sameContent(this.spec.exportView(existing), this.spec.exportView(candidate))) {
      return 'unchanged';
    }
    const before = this.spec.view(existing);
    this.spec.assign(existing, dto, field);
    existing.description = dto.description ?? '';
    existing.version += 1;
    existing.updateTime = new Date();
    await em.save(this.spec.entity, existing as never);
    await this.recordWrite(em, caller, 'update', before, existing);
    return 'updated';
  }

  /** Cascade: deletes every object of this kind in the subtree of `ns` (each audited and recorded). */
  async deleteSubtreeInTx(em: EntityManager, caller: Caller, ns: string): Promise<number> {
    const [w, p] = subtreeWhere('o', ns);
    const rows = await em.getRepository(this.spec.entity).createQueryBuilder('o').where(w, p).getMany();
    for (const r of rows) {
      await this.deleteRow(em, caller, r);
    }
    return rows.length;
  }

  /** Export: user-set fields of every object in the subtree, ordered by (namespace, name). */
  async exportSubtree(em: EntityManager, ns: string): Promise<Record<string, unknown>[]> {
    const [w, p] = subtreeWhere('o', ns);
    const rows = await em
      .getRepository(this.spec.entity)
      .createQueryBuilder('o')
      .where(w, p)
      .orderBy('o.namespace', 'ASC')
      .addOrderBy('o.name', 'ASC')
      .getMany();
    return rows.map((r) => this.spec.exportView(r));
  }

  private build(ns: string, dto: D, field = ''): E {
    const now = new Date();
    const e = new this.spec.entity();
    e.id = randomUUID();
    e.namespace = ns;
    e.name = dto.name;
    e.description = dto.description ?? '';
    e.createTime = now;
    e.updateTime = now;
    e.version = 1;
    this.spec.assign(e, dto, field);
    return e;
  }

  private async deleteRow(em: EntityManager, caller: Caller, row: E): Promise<void> {
    await em.delete(this.spec.entity, { id: row.id } as never);
    await this.changes.record(em, { kind: this.spec.kind, namespace: row.namespace, objectId: row.id, op: 'delete' });
    await this.audit.record(em, caller, {
      action: 'delete',
      kind: this.spec.kind,
      namespace: row.namespace,
      objectId: row.id,
      objectName: row.name,
      before: this.spec.view(row),
    });
  }

  private async lockVisible(em: EntityManager, caller: Caller, id: string): Promise<E> {
    const row = UUID.test(id)
      ? await em
          .getRepository(this.spec.entity)
          .createQueryBuilder('o')
          .setLock('pessimistic_write')
          .where('o.id = :id', { id })
          .getOne()
      : null;
    if (!row || !canSee(caller.principal, row.namespace)) {
      throw notFound(this.spec.label, id);
    }
    return row;
  }

  private async assertNameFree(em: EntityManager, ns: string, name: string, exceptId: string | null): Promise<void> {
    const other = await em.getRepository(this.spec.entity).findOneBy({ namespace: ns, name } as never);
    if (other && other.id !== exceptId) {
      throw new ApiError(HttpStatus.CONFLICT, 'name_taken', `a ${this.spec.label} named "${name}" already exists in ${ns}`);
    }
  }

  private async recordWrite(em: EntityManager, caller: Caller, action: 'create' | 'update', before: V | null, e: E) {
    await this.changes.record(em, { kind: this.spec.kind, namespace: e.namespace, objectId: e.id });
    await this.audit.record(em, caller, {
      action,
      kind: this.spec.kind,
      namespace: e.namespace,
      objectId: e.id,
      objectName: e.name,
      before: before ?? undefined,
      after: this.spec.view(e),
    });
  }
}

/** 404 unless `ns` exists and lies in the caller's subtree (one answer for both: no existence oracle). */
export async function assertNamespaceVisible(em: EntityManager, caller: Caller, ns: string): Promise<void> {
  if (!canSee(caller.principal, ns)) {
    throw namespaceNotFound(ns);
  }
  const rows = (await em.query('SELECT 1 FROM namespaces WHERE name = $1', [ns])) as unknown[];
  if (rows.length === 0) {
    throw namespaceNotFound(ns);
  }
}
