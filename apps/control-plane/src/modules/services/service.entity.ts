import { Column, Entity, Unique } from 'typeorm';
import { NamespacedEntity } from '../../common/base.entity';

export const SERVICE_TYPES = ['TCP', 'HTTP'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];
/** `None`: the load balancer passes TCP through and the agents' mTLS runs end to end. */
export const TLS_TYPES = ['None', 'External', 'Aporeto', 'LetsEncrypt', 'PublicTLS'] as const;
export type TlsType = (typeof TLS_TYPES)[number];

@Entity({ name: 'services' })
@Unique('uq_services_namespace_name', ['namespace', 'name'])
export class ServiceEntity extends NamespacedEntity {
  @Column({ name: 'ips', type: 'jsonb', default: () => `'[]'::jsonb` })
  IPs!: string[];

  @Column({ type: 'jsonb', default: () => `'[]'::jsonb` })
  hosts!: string[];

  @Column({ name: 'exposed_port', type: 'integer' })
  exposedPort!: number;

  @Column({ type: 'integer' })
  port!: number;

  @Column({ type: 'jsonb' })
  selectors!: string[][];

  @Column({ name: 'associated_tags', type: 'jsonb', default: () => `'[]'::jsonb` })
  associatedTags!: string[];

  @Column({ type: 'text', default: 'TCP' })
  type!: ServiceType;

  @Column({ name: 'tls_type', type: 'text', default: 'None' })
  TLSType!: TlsType;

  @Column({ type: 'boolean', default: false })
  propagate!: boolean;
}
