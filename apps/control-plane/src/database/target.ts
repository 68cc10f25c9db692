import { join } from 'node:path';
import { type AppConfig } from '../config/config';
import { type DatabaseTarget } from './data-source';

/** DATABASE_URL → that Postgres; unset → PGlite in `<data dir>/pgdata`. */
export function databaseTarget(config: Pick<AppConfig, 'databaseUrl' | 'dataDir'>): DatabaseTarget {
  return config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: join(config.dataDir, 'pgdata') };
}
