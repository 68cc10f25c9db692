import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { FlowRecord } from '@palisade/protocol';
import { isWithin } from '@palisade/policy';
import { type Caller } from '../../common/request-context';
import { canSee } from '../../auth/principal';
import { AgentEntity } from '../agents/agent.entity';
import { FlowReportEntity } from './flow-report.entity';

export interface FlowReportQuery {
  namespace?: string;
  recursive?: boolean;
  from?: Date;
  to?: Date;
  action?: 'Allow' | 'Reject';
  pu?: string;
  limit?: number;
}

export interface FlowReportView extends FlowRecord {
  id: string;
  agentId: string;
  namespace: string;
}

/** Flow reports: stored as the agents aggregated them, queried by namespace, time range, verdict and PU. */
@Injectable()
export class FlowReportsService {
  constructor(private readonly dataSource: DataSource) {}

  async store(agentId: string, records: FlowRecord[]): Promise<void> {
    if (records.length === 0) {
      return;
    }
    const agent = await this.dataSource.getRepository(AgentEntity).findOne({ where: { id: agentId } });
    if (!agent) {
      return;
    }
    await this.dataSource.getRepository(FlowReportEntity).insert(
      records.map((r) => ({
        ...r,
        agentId,
        namespace: agent.namespace,
        bytesIn: String(r.bytesIn),
        bytesOut: String(r.bytesOut),
        durationMs: String(r.durationMs),
        firstSeen: new Date(r.firstSeen),
        lastSeen: new Date(r.lastSeen),
        observed: r.observed ?? false,
      })),
    );
  }

  async list(caller: Caller, q: FlowReportQuery): Promise<FlowReportView[]> {
    const root = q.namespace ?? caller.principal.namespace;
    if (!canSee(caller.principal, root)) {
      return [];
    }
    const qb = this.dataSource.getRepository(FlowReportEntity).createQueryBuilder('f');
    if (q.recursive) {
      qb.where('(f.namespace = :root OR f.namespace LIKE :prefix)', { root, prefix: `${root === '/' ? '' : root}/%` });
    } else {
      qb.where('f.namespace = :root', { root });
    }
    if (q.from) {
      qb.andWhere('f.last_seen >= :from', { from: q.from });
    }
    if (q.to) {
      qb.andWhere('f.first_seen <= :to', { to: q.to });
    }
    if (q.action) {
      qb.andWhere('f.action = :action', { action: q.action });
    }
    if (q.pu) {
      qb.andWhere('(f.source_id = :pu OR f.destination_id = :pu OR f.source_name = :pu OR f.destination_name = :pu)', { pu: q.pu });
    }
    const rows = await qb.orderBy('f.id', 'DESC').limit(q.limit ?? 1000).getMany();
    return rows
      .filter((r) => isWithin(r.namespace, caller.principal.namespace))
      .map(({ bytesIn, bytesOut, durationMs, firstSeen, lastSeen, ...rest }) => ({
        ...rest,
        bytesIn: Number(bytesIn),
        bytesOut: Number(bytesOut),
        durationMs: Number(durationMs),
        firstSeen: firstSeen.toISOString(),
        lastSeen: lastSeen.toISOString(),
      }));
  }
}
