import { Column, Entity, Unique } from 'typeorm';
import { NamespacedEntity } from '../../common/base.entity';

export type PolicyAction = 'Allow' | 'Reject';
export const APPLY_POLICY_MODES = ['Bidirectional', 'IncomingTraffic', 'OutgoingTraffic'] as const;
export type ApplyPolicyMode = (typeof APPLY_POLICY_MODES)[number];

@Entity({ name: 'network_policies' })
@Unique('uq_network_policies_namespace_name', ['namespace', 'name'])
export class NetworkPolicyEntity extends NamespacedEntity {
  @Column({ type: 'jsonb' })
  subject!: string[][];

  @Column({ type: 'jsonb' })
  object!: string[][];

  @Column({ type: 'text' })
  action!: PolicyAction;

  @Column({ type: 'jsonb', default: () => `'[]'::jsonb` })
  ports!: string[];

  @Column({ name: 'apply_policy_mode', type: 'text', default: 'Bidirectional' })
  applyPolicyMode!: ApplyPolicyMode;

  @Column({ name: 'encryption_enabled', type: 'boolean', default: true })
  encryptionEnabled!: boolean;

  @Column({ name: 'logs_enabled', type: 'boolean', default: false })
  logsEnabled!: boolean;

  @Column({ name: 'observation_enabled', type: 'boolean', default: false })
  observationEnabled!: boolean;

  @Column({ type: 'boolean', default: false })
  propagate!: boolean;

  @Column({ type: 'boolean', default: false })
  fallback!: boolean;

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  @Column({ name: 'expiration_time', type: 'timestamptz', nullable: true })
  expirationTime!: Date | null;
}
