import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One committed change to the policy model; `id` is the global revision agents' rule sets carry. */
@Entity({ name: 'changes' })
export class ChangeEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'pk_changes' })
  id!: string;

  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ name: 'object_id', type: 'uuid' })
  objectId!: string;

  @Column({ type: 'text', default: 'upsert' })
  op!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;
}
