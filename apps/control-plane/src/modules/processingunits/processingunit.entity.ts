import { Column, Entity, Unique } from 'typeorm';
import { NamespacedEntity } from '../../common/base.entity';

export const PU_TYPES = ['HostService', 'LinuxProcess', 'Host', 'User'] as const;
export type PuType = (typeof PU_TYPES)[number];

@Entity({ name: 'processing_units' })
@Unique('uq_processing_units_namespace_name', ['namespace', 'name'])
export class ProcessingUnitEntity extends NamespacedEntity {
  @Column({ type: 'text' })
  type!: PuType;

  @Column({ name: 'associated_tags', type: 'jsonb', default: () => `'[]'::jsonb` })
  associatedTags!: string[];

  @Column({ type: 'jsonb', default: () => `'[]'::jsonb` })
  ports!: string[];

  /** Set by the agent that runs this PU; read-only through the API. */
  @Column({ name: 'agent_id', type: 'uuid', nullable: true })
  agentId!: string | null;
}
