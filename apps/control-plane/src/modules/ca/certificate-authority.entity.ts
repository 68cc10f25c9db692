import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type CaKind = 'root' | 'issuing';

/**
 * A CA certificate with its private key sealed (AES-256-GCM under the KEK, see @palisade/pki sealKey).
 * `trustedUntil`: how long it stays in the trust bundle (an old issuing CA, until its last leaf expires).
 */
@Entity({ name: 'certificate_authorities' })
export class CertificateAuthorityEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_certificate_authorities' })
  id!: string;

  @Column({ type: 'text' })
  kind!: CaKind;

  @Column({ name: 'cert_pem', type: 'text' })
  certPem!: string;

  @Column({ name: 'sealed_key', type: 'text' })
  sealedKey!: string;

  @Column({ type: 'text' })
  serial!: string;

  @Column({ type: 'text' })
  fingerprint!: string;

  @Column({ name: 'not_after', type: 'timestamptz' })
  notAfter!: Date;

  /** The one issuing CA that signs new leaves (exactly one active per kind). */
  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @Column({ name: 'trusted_until', type: 'timestamptz', nullable: true })
  trustedUntil!: Date | null;

  @CreateDateColumn({ name: 'create_time', type: 'timestamptz' })
  createTime!: Date;
}
