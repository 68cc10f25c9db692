// A node-postgres-shaped driver over ONE embedded PGlite instance, for TypeORM's Postgres driver
// (DataSourceOptions.driver). Why our own instead of typeorm-pglite:
//  - PGlite is a single Postgres session. typeorm-pglite hands that one session to every QueryRunner at
//    once, so two concurrent transactions interleave their BEGIN/COMMIT in the same session (one's
//    ROLLBACK undoes the other's writes). Here `connect()` is an exclusive lease: a QueryRunner holds the
//    session from connect to release, i.e. a pool of exactly one connection. Transactions are therefore
//    serialised by construction, and a plain read never runs inside somebody else's open transaction.
//  - typeorm-pglite keeps a process-wide singleton; we need one instance per DataSource (tests open several).
//  - TypeORM reads `rowCount`/`command` from results (affected rows of UPDATE/DELETE); PGlite reports
//    `affectedRows`, so we translate.
// @electric-sql/pglite-socket would also give one connection, but through a TCP socket and the pg wire
// protocol in-process — an extra hop and a port to manage for no gain.
import { EventEmitter } from 'node:events';
import { type PGlite, type Results } from '@electric-sql/pglite';

interface PgResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: Results['fields'];
}

type Callback<T> = (err: Error | null, result?: T) => void;

/** The "client" TypeORM gets from the pool: just the PGlite session, made to look like a pg.Client. */
class PGliteClient extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  query(sql: string, params?: unknown[] | Callback<PgResult>, cb?: Callback<PgResult>): Promise<PgResult> {
    const callback = typeof params === 'function' ? params : cb;
    const values = Array.isArray(params) ? params : undefined;
    const run = async (): Promise<PgResult> => {
      if (values && values.length > 0) {
        return toPg(sql, await this.db.query(sql, values));
      }
      // Without parameters TypeORM may send several statements (migrations); exec runs them all.
      const all = await this.db.exec(sql);
      return toPg(sql, all[all.length - 1] ?? { rows: [], fields: [], affectedRows: 0 });
    };
    const p = run();
    if (callback) {
      p.then(
        (r) => callback(null, r),
        (e: Error) => callback(e),
      );
    }
    return p;
  }
}

function toPg(sql: string, r: Results): PgResult {
  const command = (/^\s*(\w+)/.exec(sql)?.[1] ?? '').toUpperCase();
  return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length, command, fields: r.fields };
}

/** What the pool needs from DataSourceOptions.extra. */
export interface PGlitePoolOptions {
  pglite: PGlite;
}

/**
 * A pool of exactly one connection: `connect` waits until the previous lease is released. Exported as a
 * "driver module" object with a `Pool` class, which is the shape TypeORM expects from `pg`.
 */
export class PGlitePool extends EventEmitter {
  private readonly client: PGliteClient;
  private readonly db: PGlite;
  private tail: Promise<void> = Promise.resolve();
  private ended = false;

  constructor(options: PGlitePoolOptions) {
    super();
    this.db = options.pglite;
    this.client = new PGliteClient(options.pglite);
  }

  /** Leases the session. Leases are granted strictly in request order (FIFO). */
  connect(cb: (err: Error | null, client: PGliteClient | null, release: () => void) => void): void {
    if (this.ended) {
      cb(new Error('PGlite pool has ended'), null, () => undefined);
      return;
    }
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const previous = this.tail;
    this.tail = previous.then(() => held);
    void previous.then(() => {
      let done = false;
      cb(null, this.client, () => {
        if (!done) {
          done = true;
          release();
        }
      });
    });
  }

  /** Runs `fn` with the session leased exclusively (used for LISTEN, which must not land inside a transaction). */
  async withSession<T>(fn: (db: PGlite) => Promise<T>): Promise<T> {
    const release = await new Promise<() => void>((ok, fail) =>
      this.connect((err, _c, rel) => (err ? fail(err) : ok(rel))),
    );
    try {
      return await fn(this.db);
    } finally {
      release();
    }
  }

  /** Waits for the current lease holders, then closes PGlite (which flushes it to disk). */
  end(cb?: (err?: Error) => void): void {
    this.ended = true;
    const p = this.tail.then(() => (this.db.closed ? undefined : this.db.close()));
    p.then(
      () => cb?.(),
      (e: Error) => cb?.(e),
    );
  }
}

/** The `driver` option for TypeORM's postgres DataSource when the database is PGlite. */
export const pgliteDriverModule = { Pool: PGlitePool };
