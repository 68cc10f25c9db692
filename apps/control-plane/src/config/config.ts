import { isIP } from 'node:net';
import { resolve } from 'node:path';

/** Log levels accepted by PALISADE_LOG_LEVEL, most to least verbose. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated, typed configuration of one control-plane process. */
export interface AppConfig {
  listenHost: string;
  /** 0 = an ephemeral port (tests, the demo). */
  listenPort: number;
  dataDir: string;
  /** null → the embedded PGlite in `<dataDir>/pgdata`. */
  databaseUrl: string | null;
  adminToken: string | null;
  /** 32 bytes, or null → `<dataDir>/kek` (created 0600 on first start). */
  kek: Buffer | null;
  trustDomain: string;
  serverNames: string[];
  logLevel: LogLevel;
  /** The URL enrollment tokens tell agents to dial (PALISADE_PUBLIC_URL); null → the Host the caller used. */
  publicUrl: string | null;
}

/** A bad environment variable; start-up stops with this message, which names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const DNS_NAME = /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function parseListen(raw: string): { host: string; port: number } {
  // "[::1]:8443", "127.0.0.1:8443", "localhost:0"
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(raw);
  const host = m?.[1] ?? m?.[2];
  const port = m ? Number(m[3]) : NaN;
  if (!m || !host || port > 65535) {
    throw new ConfigError('PALISADE_LISTEN', `expected HOST:PORT (port 0-65535), got "${raw}"`);
  }
  if (!isIP(host) && !DNS_NAME.test(host)) {
    throw new ConfigError('PALISADE_LISTEN', `"${host}" is neither an IP address nor a DNS name`);
  }
  return { host, port };
}

function parseKek(raw: string): Buffer {
  const buf = Buffer.from(raw, 'base64');
  // Round-trip check: Buffer.from silently drops non-base64 characters.
  if (buf.length !== 32 || buf.toString('base64').replace(/=+$/, '') !== raw.trim().replace(/=+$/, '')) {
    throw new ConfigError('PALISADE_KEK', 'must be exactly 32 bytes, base64-encoded (openssl rand -base64 32)');
  }
  return buf;
}

function parseDatabaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL (expected postgres://user@host:5432/db)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `unsupported scheme "${url.protocol}" (expected postgres:)`);
  }
  return raw;
}

/**
 * Validates the environment into an AppConfig. Empty strings count as unset. Throws ConfigError naming
 * the first bad variable; never reads files (the KEK file and admin token file are handled at boot).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const get = (k: string): string | undefined => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const { host, port } = parseListen(get('PALISADE_LISTEN') ?? '127.0.0.1:8443');
  const adminToken = get('PALISADE_ADMIN_TOKEN') ?? null;
  if (adminToken !== null && (adminToken.length < 16 || adminToken.length > 512 || /\s/.test(adminToken))) {
    throw new ConfigError('PALISADE_ADMIN_TOKEN', 'must be 16-512 characters without whitespace');
  }
  const trustDomain = (get('PALISADE_TRUST_DOMAIN') ?? 'palisade.local').toLowerCase();
  // 47: the root CA's CommonName ("Palisade Root CA <trust domain>") must fit X.520's 64 characters.
  if (!DNS_NAME.test(trustDomain) || trustDomain.startsWith('*') || trustDomain.length > 47) {
    throw new ConfigError('PALISADE_TRUST_DOMAIN', `"${trustDomain}" is not a DNS-style name of at most 47 characters`);
  }
  const serverNames = (get('PALISADE_SERVER_NAMES') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of serverNames) {
    if (!isIP(n) && !DNS_NAME.test(n)) {
      throw new ConfigError('PALISADE_SERVER_NAMES', `"${n}" is neither an IP address nor a DNS name`);
    }
  }
  const logLevel = (get('PALISADE_LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('PALISADE_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const dbUrl = get('DATABASE_URL');
  const kek = get('PALISADE_KEK');
  return {
    listenHost: host,
    listenPort: port,
    dataDir: resolve(get('PALISADE_DATA_DIR') ?? './.palisade'),
    databaseUrl: dbUrl === undefined ? null : parseDatabaseUrl(dbUrl),
    adminToken,
    kek: kek === undefined ? null : parseKek(kek),
    trustDomain,
    serverNames,
    logLevel: logLevel as LogLevel,
    publicUrl: parsePublicUrl(get('PALISADE_PUBLIC_URL')),
  };
}

function parsePublicUrl(raw: string | undefined): string | null {
  if (raw === undefined) {
    return null;
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError('PALISADE_PUBLIC_URL', `"${raw}" is not a URL`);
  }
  if (u.protocol !== 'https:' || u.pathname !== '/' || u.search || u.hash) {
    throw new ConfigError('PALISADE_PUBLIC_URL', `expected https://HOST[:PORT] with no path, got "${raw}"`);
  }
  return u.origin;
}

/** Nest injection token for the AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
