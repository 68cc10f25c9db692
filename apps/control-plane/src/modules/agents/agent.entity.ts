import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An enrolled host agent (enforcer). Its key never leaves the host; the control plane holds only its certificates. */
@Entity({ name: 'agents' })
@Index('ix_agents_namespace', ['namespace'])
export class AgentEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_agents' })
  id!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  hostname!: string;

  /** Tags the enrollment token allowed this agent to claim for its processing units. */
  @Column({ name: 'allowed_tags', type: 'jsonb', default: () => "'[]'" })
  allowedTags!: string[];

  @Column({ name: 'enrollment_token_id', type: 'uuid', nullable: true })
  enrollmentTokenId!: string | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt!: Date | null;

  /** True while some control-plane replica holds its WebSocket (with last_seen_at fresh). */
  @Column({ type: 'boolean', default: false })
  connected!: boolean;

  @Column({ name: 'applied_revision', type: 'bigint', nullable: true })
  appliedRevision!: string | null;

  @Column({ name: 'applied_hash', type: 'text', nullable: true })
  appliedHash!: string | null;

  @Column({ name: 'desired_revision', type: 'bigint', nullable: true })
  desiredRevision!: string | null;

  @Column({ name: 'desired_hash', type: 'text', nullable: true })
  desiredHash!: string | null;

  @Column({ name: 'last_nack', type: 'text', nullable: true })
  lastNack!: string | null;

  @Column({ type: 'text', nullable: true })
  version!: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  capabilities!: string[];
}
