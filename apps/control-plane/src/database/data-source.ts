import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { type PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { PGlitePool, pgliteDriverModule } from './pglite-driver';

/** Where the database lives: a Postgres server URL, or a PGlite data directory. */
export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };

// Entities and migrations are found by file name under dist/, so a module added later (agents,
// enrollment, ...) only has to name its file `*.entity.ts` and add a migration.
const SRC_ROOT = join(__dirname, '..');
const MIGRATIONS_DIR = join(__dirname, '..', '..', '..', '..', 'migrations');

/** Options shared by both backends. `synchronize` is never on: the schema comes from migrations only. */
function baseOptions(): Omit<DataSourceOptions, 'type'> {
  return {
    entities: [join(SRC_ROOT, '**', '*.entity.js')],
    migrations: [join(MIGRATIONS_DIR, '*.js')],
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
  };
}

/**
 * Creates (does not initialise) a TypeORM DataSource for the target. For PGlite it opens the embedded
 * database in `dataDir` (created if missing) with int8 parsed as a string, as node-postgres does, so
 * both backends hand TypeORM the same types.
 */
export async function createDataSource(target: DatabaseTarget): Promise<DataSource> {
  if (target.kind === 'postgres') {
    return new DataSource({
      ...baseOptions(),
      type: 'postgres',
      url: target.url,
      poolSize: 10,
      applicationName: 'palisade-control-plane',
    } as DataSourceOptions);
  }
  await mkdir(target.dataDir, { recursive: true, mode: 0o700 });
  const pglite = await PGlite.create({
    dataDir: target.dataDir,
    parsers: { [types.INT8]: (v: string) => v },
    serializers: {
      // TypeORM sends booleans as JS values; PGlite would otherwise infer text for untyped params.
      [types.BOOL]: (v: unknown) => (v === true || v === 'true' ? 'TRUE' : v === false || v === 'false' ? 'FALSE' : String(v)),
    },
  });
  return new DataSource({
    ...baseOptions(),
    type: 'postgres',
    driver: pgliteDriverModule,
    installExtensions: false,
    extra: { pglite },
  } as DataSourceOptions);
}

/** The PGlite pool behind a DataSource, or null when it is a real Postgres server. */
export function pglitePoolOf(ds: DataSource): PGlitePool | null {
  const master = (ds.driver as PostgresDriver).master as unknown;
  return master instanceof PGlitePool ? master : null;
}

/** Advisory-lock key held while migrating. */
export const MIGRATION_LOCK = 7_270_000;

/** Initialises the DataSource and applies pending migrations (each in its own transaction). */
export async function openDatabase(target: DatabaseTarget): Promise<DataSource> {
  const ds = await createDataSource(target);
  await ds.initialize();
  try {
    if (target.kind === 'postgres') {
      // Replicas starting together would race to create the migrations table and apply the same
      // migration; a session advisory lock makes them take turns (the second finds nothing to do).
      // Not for PGlite: one process, and holding its only session here would block runMigrations.
      const lock = ds.createQueryRunner();
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await ds.runMigrations({ transaction: 'each' });
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        await lock.release();
      }
    } else {
      await ds.runMigrations({ transaction: 'each' });
    }
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  return ds;
}
