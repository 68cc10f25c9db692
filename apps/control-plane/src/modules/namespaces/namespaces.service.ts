import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { validateNamespace } from '@palisade/policy';
import { DataSource, type EntityManager } from 'typeorm';
import { canSee } from '../../auth/principal';
import { ApiError, validationError } from '../../common/api-error';
import { type Caller } from '../../common/request-context';
import { assertNamespaceVisible, namespaceNotFound, subtreeWhere, type UpsertResult, UUID } from '../../common/resource.service';
import { ChangeService } from '../../database/change.service';
import { TransactionService } from '../../database/transaction.service';
import { AuditService } from '../audit/audit.service';
import { NetworkPoliciesService } from '../networkpolicies/networkpolicies.service';
import { ProcessingUnitsService } from '../processingunits/processingunits.service';
import { ServicesService } from '../services/services.service';
import { type CreateNamespaceDto, type NamespaceView, type UpdateNamespaceDto } from './dto/namespace.dto';
import { NamespaceEntity } from './namespace.entity';
import { namespaceError } from './namespaces.errors';

/** Extra clean-up a later module (agents, enrollment tokens) runs inside a cascading namespace delete. */
export type CascadeHook = (em: EntityManager, caller: Caller, namespace: string) => Promise<void>;

const view = (e: NamespaceEntity): NamespaceView => ({
  id: e.id,
  namespace: e.namespace,
  name: e.name,
  description: e.description,
  defaultAction: e.defaultAction,
  puCertificateTtlSeconds: e.puCertificateTtlSeconds,
  createTime: e.createTime.toISOString(),
  updateTime: e.updateTime.toISOString(),
  version: e.version,
});

/** The export form of a namespace: user-set fields, `name` as the full path. */
export const exportNamespace = (e: NamespaceEntity) => ({
  defaultAction: e.defaultAction,
  description: e.description,
  name: e.name,
  puCertificateTtlSeconds: e.puCertificateTtlSeconds,
});

const parentOf = (path: string) => (path.lastIndexOf('/') === 0 ? '/' : path.slice(0, path.lastIndexOf('/')));

@Injectable()
export class NamespacesService {
  private readonly cascadeHooks: CascadeHook[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionService,
    private readonly changes: ChangeService,
    private readonly audit: AuditService,
    private readonly pus: ProcessingUnitsService,
    private readonly policies: NetworkPoliciesService,
    private readonly services: ServicesService,
  ) {}

  registerCascadeHook(hook: CascadeHook): void {
    this.cascadeHooks.push(hook);
  }

  /** Children of `namespace` (default: the caller's), or with `recursive` every descendant. */
  async list(caller: Caller, q: { namespace?: string; recursive?: boolean; name?: string }): Promise<NamespaceView[]> {
    const ns = q.namespace ?? caller.principal.namespace;
    await assertNamespaceVisible(this.dataSource.manager, caller, ns);
    const qb = this.dataSource.getRepository(NamespaceEntity).createQueryBuilder('o');
    if (q.recursive) {
      qb.where('o.name <> :self', { self: ns });
      const [w, p] = subtreeWhere('o', ns);
      qb.andWhere(w, p);
    } else {
      qb.where('o.namespace = :ns', { ns });
    }
    if (q.name !== undefined) {
      qb.andWhere('o.name = :name', { name: q.name });
    }
    return (await qb.orderBy('o.name', 'ASC').getMany()).map(view);
  }

  async get(caller: Caller, id: string): Promise<NamespaceView> {
    const row = await this.findVisible(this.dataSource.manager, caller, id);
    return view(row);
  }

  /** Resolves `name` (path or segment) against `namespace`; validates it as a path. */
  resolvePath(dto: CreateNamespaceDto, defaultParent: string, field: string): string {
    const f = field ? `${field}.name` : 'name';
    const raw = dto.name.startsWith('/') ? dto.name : `${dto.namespace ?? defaultParent}`.replace(/\/$/, '') + `/${dto.name}`;
    try {
      validateNamespace(raw, f);
    } catch (e) {
      throw validationError([{ field: f, code: 'namespace_malformed', message: (e as Error).message.replace(/^[^:]*: /, '') }]);
    }
    if (raw === '/') {
      throw validationError([{ field: f, code: 'namespace_malformed', message: 'the root namespace always exists' }]);
    }
    if (dto.name.startsWith('/') && dto.namespace !== undefined && dto.namespace !== parentOf(raw)) {
      throw validationError([{ field: field ? `${field}.namespace` : 'namespace', code: 'namespace_mismatch', message: `namespace must be the parent of ${raw}` }]);
    }
    return raw;
  }

  create(caller: Caller, dto: CreateNamespaceDto, defaultParent?: string): Promise<NamespaceView> {
    return this.tx.run(async (em) => {
      const path = this.resolvePath(dto, defaultParent ?? caller.principal.namespace, '');
      const r = await this.createInTx(em, caller, path, dto, false);
      if (r.exists) {
        throw namespaceError('namespace_exists', `namespace ${path} already exists`);
      }
      return view(r.entity);
    });
  }

  update(caller: Caller, id: string, dto: UpdateNamespaceDto): Promise<NamespaceView> {
    return this.tx.run(async (em) => {
      const row = await this.findVisible(em, caller, id, true);
      if (row.version !== dto.version) {
        throw new ApiError(HttpStatus.CONFLICT, 'version_conflict', `namespace ${row.name} is at version ${row.version}, not ${dto.version}`, {
          currentVersion: row.version,
        });
      }
      if (this.resolvePath(dto, row.namespace, '') !== row.name) {
        throw namespaceError('namespace_immutable', 'name: a namespace cannot be renamed', [
          { field: 'name', code: 'namespace_immutable', message: 'a namespace cannot be renamed' },
        ]);
      }
      await this.applyUpdate(em, caller, row, dto);
      return view(row);
    });
  }

  /** Deletes a namespace; refused while it holds anything unless `cascade`, then its whole subtree goes. */
  remove(caller: Caller, id: string, cascade: boolean): Promise<void> {
    return this.tx.run(async (em) => {
      const row = await this.findVisible(em, caller, id, true);
      if (row.name === '/' || row.name === caller.principal.namespace) {
        throw namespaceError('namespace_protected', `namespace ${row.name} is the root of your scope and cannot be deleted`);
      }
      if (!cascade) {
        const contents = await this.countContents(em, row.name);
        if (contents > 0) {
          throw namespaceError('namespace_not_empty', `namespace ${row.name} is not empty; delete with ?cascade=true`, {
            objects: contents,
          });
        }
      } else {
        for (const hook of this.cascadeHooks) {
          await hook(em, caller, row.name);
        }
        await this.pus.deleteSubtreeInTx(em, caller, row.name);
        await this.policies.deleteSubtreeInTx(em, caller, row.name);
        await this.services.deleteSubtreeInTx(em, caller, row.name);
        await em.query('DELETE FROM api_tokens WHERE namespace = $1 OR starts_with(namespace, $2)', [row.name, `${row.name}/`]);
      }
      // By `name` (the path), not `namespace` (the parent): the subtree includes the namespace itself.
      const all = await em
        .getRepository(NamespaceEntity)
        .createQueryBuilder('o')
        .where('(o.name = :self OR starts_with(o.name, :prefix))', { self: row.name, prefix: `${row.name}/` })
        .getMany();
      // Deepest first, so no namespace ever has a missing parent.
      all.sort((a, b) => b.name.length - a.name.length);
      for (const ns of all) {
        await em.delete(NamespaceEntity, { id: ns.id });
        await this.changes.record(em, { kind: 'namespace', namespace: ns.name, objectId: ns.id, op: 'delete' });
        await this.audit.record(em, caller, { action: 'delete', kind: 'namespace', namespace: ns.name, objectId: ns.id, objectName: ns.name, before: view(ns) });
      }
    });
  }

  /**
   * Creates `path` inside the caller's transaction. With `createParents`, missing ancestors are created
   * too (import `?createNamespaces=true`); otherwise a missing parent is namespace_not_found.
   */
  async createInTx(em: EntityManager, caller: Caller, path: string, dto: Partial<CreateNamespaceDto>, createParents: boolean): Promise<{ entity: NamespaceEntity; exists: boolean }> {
    const existing = await em.getRepository(NamespaceEntity).findOneBy({ name: path });
    if (existing) {
      if (!canSee(caller.principal, path)) {
        throw namespaceNotFound(path);
      }
      return { entity: existing, exists: true };
    }
    const parent = parentOf(path);
    // The caller must be allowed into the parent: creating /b as a /a-scoped caller is invisible → 404.
    if (!canSee(caller.principal, parent)) {
      throw namespaceNotFound(parent);
    }
    const parentRow = await em.getRepository(NamespaceEntity).findOneBy({ name: parent });
    if (!parentRow) {
      if (!createParents) {
        throw namespaceNotFound(parent);
      }
      await this.createInTx(em, caller, parent, {}, true);
    }
    const now = new Date();
    const e = Object.assign(new NamespaceEntity(), {
      id: randomUUID(),
      namespace: parent,
      name: path,
      description: dto.description ?? '',
      defaultAction: dto.defaultAction ?? 'Reject',
      puCertificateTtlSeconds: dto.puCertificateTtlSeconds ?? 3600,
      createTime: now,
      updateTime: now,
      version: 1,
    });
    await em.insert(NamespaceEntity, e);
    await this.changes.record(em, { kind: 'namespace', namespace: path, objectId: e.id });
    await this.audit.record(em, caller, { action: 'create', kind: 'namespace', namespace: path, objectId: e.id, objectName: path, after: view(e) });
    return { entity: e, exists: false };
  }

  /** Import: create, or update the settings of, the namespace at `path`. */
  async upsertInTx(em: EntityManager, caller: Caller, path: string, dto: CreateNamespaceDto, createParents: boolean): Promise<UpsertResult> {
    const r = await this.createInTx(em, caller, path, dto, createParents);
    if (!r.exists) {
      return 'created';
    }
    const row = r.entity;
    const wanted = { defaultAction: dto.defaultAction ?? 'Reject', description: dto.description ?? '', puCertificateTtlSeconds: dto.puCertificateTtlSeconds ?? 3600 };
    if (row.defaultAction === wanted.defaultAction && row.description === wanted.description && row.puCertificateTtlSeconds === wanted.puCertificateTtlSeconds) {
      return 'unchanged';
    }
    await this.applyUpdate(em, caller, row, dto);
    return 'updated';
  }

  async exportSubtree(em: EntityManager, ns: string): Promise<Record<string, unknown>[]> {
    const [w, p] = subtreeWhere('o', ns);
    const rows = await em.getRepository(NamespaceEntity).createQueryBuilder('o').where('o.name <> :self', { self: ns }).andWhere(w, p).orderBy('o.name', 'ASC').getMany();
    return rows.map(exportNamespace);
  }

  private async applyUpdate(em: EntityManager, caller: Caller, row: NamespaceEntity, dto: CreateNamespaceDto): Promise<void> {
    const before = view(row);
    row.description = dto.description ?? '';
    row.defaultAction = dto.defaultAction ?? 'Reject';
    row.puCertificateTtlSeconds = dto.puCertificateTtlSeconds ?? 3600;
    row.version += 1;
    row.updateTime = new Date();
    await em.save(NamespaceEntity, row);
    await this.changes.record(em, { kind: 'namespace', namespace: row.name, objectId: row.id });
    await this.audit.record(em, caller, { action: 'update', kind: 'namespace', namespace: row.name, objectId: row.id, objectName: row.name, before, after: view(row) });
  }

  private async countContents(em: EntityManager, ns: string): Promise<number> {
    const prefix = ns === '/' ? '/' : `${ns}/`;
    let total = 0;
    for (const table of ['namespaces', 'processing_units', 'network_policies', 'services', 'api_tokens']) {
      // For the namespaces table `namespace` is the parent path, so this counts descendants too.
      const rows = (await em.query(
        `SELECT count(*)::int AS n FROM ${table} WHERE namespace = $1 OR starts_with(namespace, $2)`,
        [ns, prefix],
      )) as { n: number }[];
      total += Number(rows[0].n);
    }
    return total;
  }

  private async findVisible(em: EntityManager, caller: Caller, id: string, lock = false): Promise<NamespaceEntity> {
    const ok = UUID.test(id);
    const qb = em.getRepository(NamespaceEntity).createQueryBuilder('o').where('o.id = :id', { id });
    if (lock) {
      qb.setLock('pessimistic_write');
    }
    const row = ok ? await qb.getOne() : null;
    if (!row || !canSee(caller.principal, row.name)) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'namespace_not_found', `namespace ${id} not found`);
    }
    return row;
  }
}
