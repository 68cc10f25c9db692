import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One mutation: who did what to which object, with the object before and after (never secrets). */
@Entity({ name: 'audit_logs' })
@Index('ix_audit_logs_namespace_at', ['namespace', 'at'])
export class AuditLogEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'pk_audit_logs' })
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  @Column({ name: 'actor_token_id', type: 'uuid', nullable: true })
  actorTokenId!: string | null;

  @Column({ name: 'actor_name', type: 'text' })
  actorName!: string;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  /** create | update | delete | import | rotate */
  @Column({ type: 'text' })
  action!: string;

  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ name: 'object_id', type: 'text', nullable: true })
  objectId!: string | null;

  @Column({ name: 'object_name', type: 'text', nullable: true })
  objectName!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  before!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  after!: unknown;
}
