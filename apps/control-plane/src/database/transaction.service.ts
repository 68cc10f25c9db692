import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * The one way to run a multi-step write. `fn` gets an EntityManager bound to a single transaction: commit
 * when it resolves, roll back when it throws. On PGlite (one Postgres session) transactions are
 * serialised because the PGlite pool leases its single session exclusively for the whole transaction
 * (see pglite-driver.ts); on Postgres they run concurrently at READ COMMITTED.
 * Never use the DataSource (or a repository from it) inside `fn`: on PGlite that would wait for the
 * session the transaction itself holds.
 */
@Injectable()
export class TransactionService {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }
}
