import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A one-time (by default) enrollment token. Only the SHA-256 of its secret is stored; it is shown once. */
@Entity({ name: 'enrollment_tokens' })
@Index('uq_enrollment_tokens_hash', ['tokenHash'], { unique: true })
export class EnrollmentTokenEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_enrollment_tokens' })
  id!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ name: 'token_hash', type: 'text' })
  tokenHash!: string;

  /** Tags the agent enrolled with this token may claim for its processing units. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  tags!: string[];

  @Column({ name: 'max_uses', type: 'integer', default: 1 })
  maxUses!: number;

  @Column({ type: 'integer', default: 0 })
  uses!: number;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;
}
