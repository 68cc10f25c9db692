import { Column, Entity, Index, PrimaryColumn, type EntityManager } from 'typeorm';
import { normalizeSerial } from '@palisade/protocol';

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

/** One row of issued_certificates as recordIssued writes it. */
export interface IssuedRecord {
  serial: string;
  kind: 'agent' | 'pu';
  agentId: string;
  puId: string | null;
  namespace: string;
  notAfter: Date;
}

/** Records certificates in the caller's transaction with one statement, however many (serials normalised). */
export async function recordIssued(em: EntityManager, rows: IssuedRecord[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await em.query(
    `INSERT INTO issued_certificates (serial, kind, agent_id, pu_id, namespace, not_after)
     SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[])`,
    [
      rows.map((r) => normalizeSerial(r.serial)),
      rows.map((r) => r.kind),
      rows.map((r) => r.agentId),
      rows.map((r) => r.puId),
      rows.map((r) => r.namespace),
      rows.map((r) => r.notAfter.toISOString()),
    ],
  );
}
