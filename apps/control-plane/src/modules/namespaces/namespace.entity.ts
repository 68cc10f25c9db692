import { Check, Column, Entity, Unique } from 'typeorm';
import { NamespacedEntity } from '../../common/base.entity';

export type DefaultAction = 'Allow' | 'Reject';

/**
 * A namespace. `name` is its full path (`/acme/prod`) and unique; `namespace` is its parent's path
 * (`/acme`; the root `/` has the empty string as parent and always exists — created by the migration).
 */
@Entity({ name: 'namespaces' })
@Unique('uq_namespaces_name', ['name'])
@Check('ck_namespaces_default_action', `"default_action" IN ('Allow', 'Reject')`)
@Check('ck_namespaces_pu_certificate_ttl', `"pu_certificate_ttl_seconds" >= 300`)
export class NamespaceEntity extends NamespacedEntity {
  @Column({ name: 'default_action', type: 'text', default: 'Reject' })
  defaultAction!: DefaultAction;

  @Column({ name: 'pu_certificate_ttl_seconds', type: 'integer', default: 3600 })
  puCertificateTtlSeconds!: number;
}
