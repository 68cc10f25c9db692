import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, MoreThan, type EntityManager } from 'typeorm';
import type { PolicyState } from '@palisade/policy';
import { NamespaceEntity } from '../namespaces/namespace.entity';
import { ProcessingUnitEntity } from '../processingunits/processingunit.entity';
import { ServiceEntity } from '../services/service.entity';
import { NetworkPolicyEntity } from '../networkpolicies/networkpolicy.entity';
import { AgentEntity } from '../agents/agent.entity';
import { IssuedCertificateEntity } from '../agents/issued-certificate.entity';
import { CaService } from '../ca/ca.service';

/**
 * Reads the whole policy model into the compiler's input (libs/policy `PolicyState`). One consistent snapshot:
 * all reads run in one REPEATABLE READ transaction on Postgres (on PGlite the single session serialises them
 * anyway), with the revision read in the same snapshot, so a rule set's revision names exactly what it holds.
 */
@Injectable()
export class StateSource {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ca: CaService,
  ) {}

  private cache: PolicyState | null = null;

  /** A fresh snapshot, read now. */
  async load(): Promise<PolicyState> {
    const s = await this.dataSource.transaction('REPEATABLE READ', (em) => this.loadWith(em));
    this.cache = s;
    return s;
  }

  /**
   * The last snapshot if no change was committed since (one cheap query), else a fresh one: many agents
   * connecting at once after a restart share one read of the model.
   */
  async current(): Promise<PolicyState> {
    if (this.cache) {
      const rows = (await this.dataSource.query('SELECT coalesce(max(id), 0) AS id FROM changes')) as { id: string }[];
      if (Number(rows[0].id) === this.cache.revision) {
        return this.cache;
      }
    }
    return this.load();
  }

  async loadWith(em: EntityManager): Promise<PolicyState> {
    const now = new Date();
    const [rev, namespaces, pus, services, policies, agents, revoked] = await Promise.all([
      em.query('SELECT coalesce(max(id), 0) AS id FROM changes') as Promise<{ id: string }[]>,
      em.getRepository(NamespaceEntity).find(),
      em.getRepository(ProcessingUnitEntity).find(),
      em.getRepository(ServiceEntity).find(),
      em.getRepository(NetworkPolicyEntity).find(),
      em.getRepository(AgentEntity).find({ where: { revokedAt: IsNull() } }),
      em.getRepository(IssuedCertificateEntity).find({
        where: { revokedAt: MoreThan(new Date(0)), notAfter: MoreThan(now) },
        select: { serial: true },
      }),
    ]);
    return {
      revision: Number(rev[0].id),
      namespaces: namespaces.map((n) => ({ name: n.name, defaultAction: n.defaultAction })),
      processingUnits: pus.map((p) => ({
        id: p.id,
        name: p.name,
        namespace: p.namespace,
        type: p.type,
        associatedTags: p.associatedTags,
        ports: p.ports,
        agentId: p.agentId,
      })),
      services: services.map((s) => ({
        id: s.id,
        name: s.name,
        namespace: s.namespace,
        type: s.type,
        TLSType: s.TLSType,
        hosts: s.hosts,
        IPs: s.IPs,
        exposedPort: s.exposedPort,
        port: s.port,
        selectors: s.selectors,
        associatedTags: s.associatedTags,
        propagate: s.propagate,
      })),
      policies: policies.map((p) => ({
        id: p.id,
        name: p.name,
        namespace: p.namespace,
        subject: p.subject,
        object: p.object,
        action: p.action,
        ports: p.ports,
        applyPolicyMode: p.applyPolicyMode,
        encryptionEnabled: p.encryptionEnabled,
        logsEnabled: p.logsEnabled,
        observationEnabled: p.observationEnabled,
        propagate: p.propagate,
        fallback: p.fallback,
        disabled: p.disabled,
        expirationTime: p.expirationTime ? p.expirationTime.toISOString() : null,
      })),
      agents: agents.map((a) => ({ id: a.id, name: a.name, namespace: a.namespace })),
      trustBundle: await this.ca.trustBundle(),
      denyList: revoked.map((c) => c.serial).sort(),
    };
  }
}
