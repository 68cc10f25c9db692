// Test support (not a spec): runs database specs on both backends — PGlite always, Postgres when
// TEST_DATABASE_URL is set (each spec file gets its own randomly named database, dropped afterwards).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { type AppConfig, loadConfig } from '../config/config';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** A fresh data directory + database for one test app. */
  prepare(): Promise<{ dataDir: string; databaseUrl: string | null; cleanup(): Promise<void> }>;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Creates an empty Postgres database and returns its URL and a dropper. */
export async function createTestDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `palisade_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export function backends(): Backend[] {
  const list: Backend[] = [
    {
      name: 'pglite',
      async prepare() {
        const dataDir = await mkdtemp(join(tmpdir(), 'palisade-cp-'));
        return { dataDir, databaseUrl: null, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
      },
    },
  ];
  const server = process.env.TEST_DATABASE_URL;
  if (server) {
    list.push({
      name: 'postgres',
      async prepare() {
        const dataDir = await mkdtemp(join(tmpdir(), 'palisade-cp-'));
        const db = await createTestDatabase(server);
        return {
          dataDir,
          databaseUrl: db.url,
          async cleanup() {
            await db.drop();
            await rm(dataDir, { recursive: true, force: true });
          },
        };
      },
    });
  }
  return list;
}

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** A config for an in-process control plane on an ephemeral loopback port. */
export function testConfig(dataDir: string, databaseUrl: string | null, extra: Record<string, string> = {}): AppConfig {
  return loadConfig({
    PALISADE_LISTEN: '127.0.0.1:0',
    PALISADE_DATA_DIR: dataDir,
    PALISADE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    PALISADE_LOG_LEVEL: 'error',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...extra,
  });
}
