import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One aggregated flow record as an agent reported it (DESIGN.md §2 "Flow record"). */
@Entity({ name: 'flow_reports' })
@Index('ix_flow_reports_ns_time', ['namespace', 'lastSeen'])
export class FlowReportEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'pk_flow_reports' })
  id!: string;

  @Column({ name: 'agent_id', type: 'uuid' })
  agentId!: string;

  /** The namespace of the reporting agent's side of the flow (where the decision was made). */
  @Column({ type: 'text' })
  namespace!: string;

  @Column({ name: 'source_id', type: 'text', nullable: true })
  sourceId!: string | null;

  @Column({ name: 'source_name', type: 'text', nullable: true })
  sourceName!: string | null;

  @Column({ name: 'source_namespace', type: 'text', nullable: true })
  sourceNamespace!: string | null;

  @Column({ name: 'destination_id', type: 'text', nullable: true })
  destinationId!: string | null;

  @Column({ name: 'destination_name', type: 'text', nullable: true })
  destinationName!: string | null;

  @Column({ name: 'destination_namespace', type: 'text', nullable: true })
  destinationNamespace!: string | null;

  @Column({ name: 'service_id', type: 'text', nullable: true })
  serviceId!: string | null;

  @Column({ type: 'text' })
  port!: string;

  @Column({ type: 'text' })
  direction!: 'incoming' | 'outgoing';

  @Column({ type: 'text' })
  action!: 'Allow' | 'Reject';

  @Column({ name: 'policy_id', type: 'text', nullable: true })
  policyId!: string | null;

  @Column({ name: 'policy_name', type: 'text', nullable: true })
  policyName!: string | null;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'integer' })
  count!: number;

  @Column({ name: 'bytes_in', type: 'bigint' })
  bytesIn!: string;

  @Column({ name: 'bytes_out', type: 'bigint' })
  bytesOut!: string;

  @Column({ name: 'duration_ms', type: 'bigint' })
  durationMs!: string;

  @Column({ name: 'first_seen', type: 'timestamptz' })
  firstSeen!: Date;

  @Column({ name: 'last_seen', type: 'timestamptz' })
  lastSeen!: Date;

  /** An audit-only verdict: recorded by an observation-mode policy, not enforced. */
  @Column({ type: 'boolean', default: false })
  observed!: boolean;
}
