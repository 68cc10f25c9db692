import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Every leaf certificate the CA issued (serial, subject, lifetime): the source of the deny list on revocation. */
@Entity({ name: 'issued_certificates' })
@Index('ix_issued_certificates_agent', ['agentId'])
@Index('ix_issued_certificates_pu', ['puId'])
export class IssuedCertificateEntity {
  /** Lower-case hex, leading zeros stripped (the form Node's TLS reports). */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_issued_certificates' })
  serial!: string;

  @Column({ type: 'text' })
  kind!: 'agent' | 'pu';

  @Column({ name: 'agent_id', type: 'uuid', nullable: true })
  agentId!: string | null;

  @Column({ name: 'pu_id', type: 'uuid', nullable: true })
  puId!: string | null;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ name: 'issued_at', type: 'timestamptz', default: () => 'now()' })
  issuedAt!: Date;

  @Column({ name: 'not_after', type: 'timestamptz' })
  notAfter!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
