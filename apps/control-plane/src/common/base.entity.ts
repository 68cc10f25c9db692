import { Column, PrimaryColumn } from 'typeorm';

/** Columns every API object has: id, namespace (path), name (unique per namespace), timestamps, version. */
export abstract class NamespacedEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  // Plain columns set by the service (not Create/UpdateDateColumn): one clock, the same on both backends.
  @Column({ name: 'create_time', type: 'timestamptz' })
  createTime!: Date;

  @Column({ name: 'update_time', type: 'timestamptz' })
  updateTime!: Date;

  /** Optimistic concurrency: an update must name the current version; it is incremented by one per write. */
  @Column({ type: 'integer', default: 1 })
  version!: number;
}
