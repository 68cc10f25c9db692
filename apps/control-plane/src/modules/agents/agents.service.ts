import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { DataSource, In, IsNull } from 'typeorm';
import { isSystemTag, puTags } from '@palisade/policy';
import { type VerifiedCsr } from '@palisade/pki';
import { type DeclaredPu } from '@palisade/protocol';
import { ApiError } from '../../common/api-error';
import { type Caller } from '../../common/request-context';
import { canSee } from '../../auth/principal';
import { TransactionService } from '../../database/transaction.service';
import { GroupCommit } from '../../database/group-commit';
import { ChangeService } from '../../database/change.service';
import { AuditService } from '../audit/audit.service';
import { CaService } from '../ca/ca.service';
import { NamespaceEntity } from '../namespaces/namespace.entity';
import { ProcessingUnitEntity } from '../processingunits/processingunit.entity';
import { AgentEntity } from './agent.entity';
import { agentCertificateRequest, checkCsr } from './agent-certificate';
import { IssuedCertificateEntity, recordIssued } from './issued-certificate.entity';

/** An agent as GET /v1/agents shows it. */
export interface AgentView {
  id: string;
  name: string;
  namespace: string;
  hostname: string;
  connected: boolean;
  lastSeen: string | null;
  desiredRevision: number | null;
  appliedRevision: number | null;
  desiredHash: string | null;
  appliedHash: string | null;
  inSync: boolean;
  lastNack: string | null;
  version: string | null;
  capabilities: string[];
  revoked: boolean;
  revokedAt: string | null;
  createTime: string;
}

/** A certificate issued over the control channel. */
export interface ChannelCertificate {
  certificate: string;
  notAfter: Date;
  puId?: string;
  trustBundle: string[];
}

/** One control-channel certificate request waiting for its batch. */
interface ChannelIssue {
  agentId: string;
  subject: 'agent' | 'pu';
  puName?: string;
  csr: VerifiedCsr;
}

/** Queued acks are written this long after the first of a burst arrives. */
const APPLIED_FLUSH_MS = 20;

/** An agent counts as connected while a replica holds its socket and it was seen this recently. */
const CONNECTED_FRESH_MS = 30_000;

const notFound = (id: string) => new ApiError(HttpStatus.NOT_FOUND, 'agent_not_found', `agent ${id} not found`);

export function agentView(a: AgentEntity, now = Date.now()): AgentView {
  const fresh = a.lastSeenAt !== null && now - a.lastSeenAt.getTime() < CONNECTED_FRESH_MS;
  return {
    id: a.id,
    name: a.name,
    namespace: a.namespace,
    hostname: a.hostname,
    connected: a.connected && fresh && a.revokedAt === null,
    lastSeen: a.lastSeenAt?.toISOString() ?? null,
    desiredRevision: a.desiredRevision === null ? null : Number(a.desiredRevision),
    appliedRevision: a.appliedRevision === null ? null : Number(a.appliedRevision),
    desiredHash: a.desiredHash,
    appliedHash: a.appliedHash,
    inSync: a.desiredHash !== null && a.desiredHash === a.appliedHash,
    lastNack: a.lastNack,
    version: a.version,
    capabilities: a.capabilities,
    revoked: a.revokedAt !== null,
    revokedAt: a.revokedAt?.toISOString() ?? null,
    createTime: a.createdAt.toISOString(),
  };
}

/**
 * Agents after enrollment: listing, revocation, the processing units they declare and the certificates they ask
 * for. Revocation marks the agent, its processing units' and its own certificates revoked in one transaction
 * with a change record, so every agent's next rule set carries the serials in its deny list (no CRL wait) and
 * nothing is ever issued to it again.
 */
@Injectable()
export class AgentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionService,
    private readonly changes: ChangeService,
    private readonly audit: AuditService,
    private readonly ca: CaService,
  ) {}

  async list(caller: Caller, namespace: string | undefined): Promise<AgentView[]> {
    const root = namespace ?? caller.principal.namespace;
    if (!canSee(caller.principal, root)) {
      return [];
    }
    const rows = await this.dataSource.getRepository(AgentEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.filter((a) => canSee(caller.principal, a.namespace) && (a.namespace === root || a.namespace.startsWith(root === '/' ? '/' : `${root}/`))).map((a) => agentView(a));
  }

  async get(caller: Caller, id: string): Promise<AgentView> {
    const a = await this.dataSource.getRepository(AgentEntity).findOne({ where: { id } });
    if (!a || !canSee(caller.principal, a.namespace)) {
      throw notFound(id);
    }
    return agentView(a);
  }

  async find(id: string): Promise<AgentEntity | null> {
    return this.dataSource.getRepository(AgentEntity).findOne({ where: { id } });
  }

  async revoke(caller: Caller, id: string): Promise<AgentView> {
    return this.tx.run(async (em) => {
      // FOR UPDATE: a certificate batch holding this agent FOR SHARE commits first, so its serials are revoked below.
      const a = await em.getRepository(AgentEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!a || !canSee(caller.principal, a.namespace)) {
        throw notFound(id);
      }
      const before = agentView(a);
      if (!a.revokedAt) {
        a.revokedAt = new Date();
        a.connected = false;
        await em.getRepository(AgentEntity).save(a);
        await em.getRepository(IssuedCertificateEntity).update({ agentId: id, revokedAt: IsNull() }, { revokedAt: a.revokedAt });
        await this.changes.record(em, { kind: 'agent', namespace: a.namespace, objectId: id, op: 'delete' });
      }
      const after = agentView(a);
      await this.audit.record(em, caller, { action: 'update', kind: 'agent', namespace: a.namespace, objectId: id, objectName: a.name, before, after });
      return after;
    });
  }

  async revokeProcessingUnit(caller: Caller, puId: string): Promise<{ id: string; revokedSerials: number }> {
    return this.tx.run(async (em) => {
      const pu = await em.getRepository(ProcessingUnitEntity).findOne({ where: { id: puId }, lock: { mode: 'pessimistic_write' } });
      if (!pu || !canSee(caller.principal, pu.namespace)) {
        throw new ApiError(HttpStatus.NOT_FOUND, 'processingunit_not_found', `processing unit ${puId} not found`);
      }
      const res = await em.getRepository(IssuedCertificateEntity).update({ puId, revokedAt: IsNull() }, { revokedAt: new Date() });
      await em.query(
        `INSERT INTO pu_revocations (pu_id, agent_id, pu_name, revoked_at) VALUES ($1, $2, $3, now()) ON CONFLICT (pu_id) DO NOTHING`,
        [puId, pu.agentId, pu.name],
      );
      await this.changes.record(em, { kind: 'processingunit', namespace: pu.namespace, objectId: puId });
      await this.audit.record(em, caller, { action: 'update', kind: 'processingunit-revocation', namespace: pu.namespace, objectId: puId, objectName: pu.name });
      return { id: puId, revokedSerials: res.affected ?? 0 };
    });
  }

  /**
   * Upserts the processing units an agent declares in its hello, in the agent's namespace, bound to the agent.
   * Tags the agent may not claim (not granted by its enrollment token, or `$` system tags) are dropped, never
   * trusted: a host cannot give itself an identity it was not granted. Units it no longer declares are removed.
   * Returns name → id.
   */
  async registerPus(agent: AgentEntity, declared: DeclaredPu[]): Promise<Map<string, string>> {
    return this.tx.run(async (em) => {
      const repo = em.getRepository(ProcessingUnitEntity);
      const existing = await repo.find({ where: { agentId: agent.id } });
      // A unit renamed on a clash (`<name>@<agent>-<id8>`) is still the unit the agent declares as `<name>`.
      const suffix = `@${agent.name}-${agent.id.slice(0, 8)}`;
      const byName = new Map(existing.map((p) => [p.name.endsWith(suffix) ? p.name.slice(0, -suffix.length) : p.name, p]));
      const allowed = new Set(agent.allowedTags);
      const out = new Map<string, string>();
      for (const d of declared) {
        const tags = [...new Set(d.associatedTags.filter((t) => !isSystemTag(t) && (allowed.has(t) || isDerivedTag(d, t))))].sort();
        const ports = [...new Set(d.ports)].sort();
        const cur = byName.get(d.name);
        if (cur) {
          out.set(d.name, cur.id);
          byName.delete(d.name);
          if (cur.type !== d.type || JSON.stringify(cur.associatedTags) !== JSON.stringify(tags) || JSON.stringify(cur.ports) !== JSON.stringify(ports)) {
            cur.type = d.type;
            cur.associatedTags = tags;
            cur.ports = ports;
            cur.version += 1;
            await repo.save(cur);
            await this.changes.record(em, { kind: 'processingunit', namespace: cur.namespace, objectId: cur.id });
          }
          continue;
        }
        const id = randomUUID();
        const row = {
          id,
          namespace: agent.namespace,
          description: `declared by agent ${agent.name}`,
          type: d.type,
          associatedTags: tags,
          ports,
          agentId: agent.id,
          version: 1,
        };
        // Names are unique per namespace; a unit of the same name on another host gets the host appended. The
        // plain name is tried with ON CONFLICT DO NOTHING, so two hosts declaring it at the same moment cannot
        // both take it (a check-then-insert would race on Postgres and fail the second hello).
        const first = await repo.createQueryBuilder().insert().values({ ...row, name: d.name }).orIgnore().returning('id').execute();
        if (!(first.raw as unknown[]).length) {
          await repo.insert({ ...row, name: `${d.name}${suffix}` });
        }
        await this.changes.record(em, { kind: 'processingunit', namespace: agent.namespace, objectId: id });
        out.set(d.name, id);
      }
      const gone = [...byName.values()];
      if (gone.length) {
        await repo.delete({ id: In(gone.map((p) => p.id)) });
        for (const p of gone) {
          await this.changes.record(em, { kind: 'processingunit', namespace: p.namespace, objectId: p.id, op: 'delete' });
        }
      }
      return out;
    });
  }

  /**
   * Issues a certificate to an agent over its authenticated channel: its own (renewal), or one for a processing
   * unit it owns, with the unit's effective tags in the tags extension. Refused for a revoked agent or unit.
   * Requests from all agents are group-committed (database/group-commit.ts): the CSR is checked first, then one
   * transaction per batch reads the agents, their units, revocations and namespaces and records every serial.
   */
  async issueOverChannel(agentId: string, req: { subject: 'agent' | 'pu'; puName?: string; csr: string }): Promise<ChannelCertificate> {
    const csr = await checkCsr(req.csr);
    return this.channelIssues.submit({ agentId, subject: req.subject, puName: req.puName, csr });
  }

  private readonly channelIssues = new GroupCommit<ChannelIssue, ChannelCertificate>((items) => this.issueBatch(items), {
    maxBatch: 64,
    concurrency: 1,
  });

  private issueBatch(items: ChannelIssue[]): Promise<(ChannelCertificate | Error)[]> {
    return this.tx.run(async (em) => {
      const agentIds = [...new Set(items.map((i) => i.agentId))];
      // FOR SHARE on the agents and units: a revocation (which updates their rows) either commits first and is seen
      // here, or waits for this batch and then revokes the certificates it recorded — none slips between the two.
      const agents = new Map((await em.getRepository(AgentEntity).find({ where: { id: In(agentIds) }, lock: { mode: 'pessimistic_read' } })).map((a) => [a.id, a]));
      const wantsPu = items.some((i) => i.subject === 'pu');
      // The units asked for: by name, or by a name the clash rule suffixed (`<name>@<host>-<id>`, registerPus).
      const names = [...new Set(items.filter((i) => i.subject === 'pu').map((i) => i.puName ?? ''))];
      const pus = wantsPu
        ? await em
            .getRepository(ProcessingUnitEntity)
            .createQueryBuilder('pu')
            .where('pu.agentId IN (:...agentIds)', { agentIds })
            .andWhere('(pu.name IN (:...names) OR pu.name LIKE ANY(CAST(:patterns AS text[])))', { names, patterns: names.map((n) => `${n.replace(/[\\%_]/g, '\\$&')}@%`) })
            .setLock('pessimistic_read')
            .getMany()
        : [];
      const revoked = wantsPu
        ? ((await em.query(`SELECT pu_id, agent_id, pu_name FROM pu_revocations WHERE pu_id = ANY($1::uuid[]) OR agent_id = ANY($2::uuid[])`, [
            pus.map((p) => p.id),
            agentIds,
          ])) as { pu_id: string; agent_id: string | null; pu_name: string | null }[])
        : [];
      const namespaces = wantsPu
        ? new Map((await em.getRepository(NamespaceEntity).find({ where: { name: In([...new Set(pus.map((p) => p.namespace))]) } })).map((n) => [n.name, n]))
        : new Map<string, NamespaceEntity>();
      const plan = items.map((item): { item: ChannelIssue; agent: AgentEntity; pu: ProcessingUnitEntity | null } | Error => {
        const agent = agents.get(item.agentId);
        if (!agent || agent.revokedAt) {
          return new ApiError(HttpStatus.FORBIDDEN, 'agent_revoked', 'this agent is revoked; nothing more is issued to it');
        }
        if (item.subject === 'agent') {
          return { item, agent, pu: null };
        }
        const own = pus.filter((p) => p.agentId === agent.id);
        const pu = own.find((p) => p.name === (item.puName ?? '')) ?? own.find((p) => p.name.startsWith(`${item.puName}@`));
        if (!pu) {
          return new ApiError(HttpStatus.NOT_FOUND, 'processingunit_not_found', `this agent has no processing unit ${item.puName}`);
        }
        if (revoked.some((r) => r.pu_id === pu.id || (r.agent_id === agent.id && r.pu_name === pu.name))) {
          return new ApiError(HttpStatus.FORBIDDEN, 'processingunit_revoked', 'this processing unit is revoked');
        }
        return { item, agent, pu };
      });
      const granted = plan.filter((p): p is Exclude<(typeof plan)[number], Error> => !(p instanceof Error));
      const leaves = await Promise.all(
        granted.map(({ item, agent, pu }) =>
          pu === null
            ? this.ca.issue({ csr: item.csr, ...agentCertificateRequest(agent) })
            : this.ca.issue({
                csr: item.csr,
                identity: { kind: 'pu', id: pu.id, namespace: pu.namespace },
                tags: [
                  ...puTags({ id: pu.id, name: pu.name, namespace: pu.namespace, type: pu.type, associatedTags: pu.associatedTags, ports: pu.ports, agentId: pu.agentId }),
                  `$hostname=${agent.hostname}`,
                ],
                ttlSeconds: namespaces.get(pu.namespace)?.puCertificateTtlSeconds ?? 3600,
              }),
        ),
      );
      await recordIssued(
        em,
        granted.map((g, i) => ({ serial: leaves[i].serial, kind: g.pu ? 'pu' : 'agent', agentId: g.agent.id, puId: g.pu?.id ?? null, namespace: g.agent.namespace, notAfter: leaves[i].notAfter })),
      );
      const trustBundle = this.ca.trustBundle();
      let next = 0;
      return plan.map((p) => {
        if (p instanceof Error) {
          return p;
        }
        const leaf = leaves[next++];
        return { certificate: leaf.chainPem, notAfter: leaf.notAfter, ...(p.pu ? { puId: p.pu.id } : {}), trustBundle };
      });
    });
  }

  /** Connection bookkeeping from the replica holding the agent's socket. */
  async markConnected(agentId: string, o: { version: string; capabilities: string[]; hostname: string }): Promise<void> {
    await this.dataSource.getRepository(AgentEntity).update(agentId, { connected: true, lastSeenAt: new Date(), version: o.version, capabilities: o.capabilities });
  }

  async markSeen(agentId: string): Promise<void> {
    await this.dataSource.getRepository(AgentEntity).update(agentId, { lastSeenAt: new Date() });
  }

  async markDisconnected(agentId: string): Promise<void> {
    await this.dataSource.getRepository(AgentEntity).update(agentId, { connected: false });
  }

  async markDesired(agentId: string, revision: number, hash: string): Promise<void> {
    await this.dataSource.getRepository(AgentEntity).update(agentId, { desiredRevision: String(revision), desiredHash: hash });
  }

  /** Records the desired rule set of many agents in one statement. */
  async markDesiredMany(rows: { agentId: string; revision: number; hash: string }[]): Promise<void> {
    if (rows.length === 0) {
      return;
    }
    await this.dataSource.query(
      `UPDATE agents SET desired_revision = v.rev, desired_hash = v.hash
         FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::bigint[]) AS rev, unnest($3::text[]) AS hash) AS v
        WHERE agents.id = v.id`,
      [rows.map((r) => r.agentId), rows.map((r) => String(r.revision)), rows.map((r) => r.hash)],
    );
  }

  private readonly pendingApplied = new Map<string, { revision: number; hash: string; at: Date }>();
  private appliedTimer: NodeJS.Timeout | null = null;
  private appliedChain: Promise<void> = Promise.resolve();

  /**
   * Records an ack without a database round trip per agent: acks arriving together (a policy change reaching a
   * thousand agents) are written by one statement a few milliseconds later. `flushApplied` writes them at once.
   */
  queueApplied(agentId: string, revision: number, hash: string): void {
    this.pendingApplied.set(agentId, { revision, hash, at: new Date() });
    this.appliedTimer ??= setTimeout(() => void this.flushApplied(), APPLIED_FLUSH_MS);
  }

  /** Writes every queued ack; resolves once they are committed (flushes never overlap). */
  flushApplied(): Promise<void> {
    if (this.appliedTimer) {
      clearTimeout(this.appliedTimer);
      this.appliedTimer = null;
    }
    this.appliedChain = this.appliedChain.then(async () => {
      if (this.pendingApplied.size === 0) {
        return;
      }
      const rows = [...this.pendingApplied];
      this.pendingApplied.clear();
      await this.dataSource.query(
        `UPDATE agents SET applied_revision = v.rev, applied_hash = v.hash, last_nack = NULL, last_seen_at = v.at
           FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::bigint[]) AS rev, unnest($3::text[]) AS hash,
                        unnest($4::timestamptz[]) AS at) AS v
          WHERE agents.id = v.id`,
        [rows.map(([id]) => id), rows.map(([, r]) => String(r.revision)), rows.map(([, r]) => r.hash), rows.map(([, r]) => r.at.toISOString())],
      );
    }).catch(() => undefined);
    return this.appliedChain;
  }

  async markApplied(agentId: string, revision: number, hash: string, nack: string | null): Promise<void> {
    await this.dataSource.getRepository(AgentEntity).update(
      agentId,
      nack === null ? { appliedRevision: String(revision), appliedHash: hash, lastNack: null, lastSeenAt: new Date() } : { lastNack: nack },
    );
  }
}

/** `hs:name=<name>` of a host service is derived from its name by Palisade itself, so an agent may always claim it. */
function isDerivedTag(d: DeclaredPu, tag: string): boolean {
  return d.type === 'HostService' && tag === `hs:name=${d.name}`;
}
