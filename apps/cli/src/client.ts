/**
 * The control plane's REST API over `node:https`, with nothing in between: the CLI makes one or two
 * requests per run, so a dependency such as axios would buy nothing but start-up time and another TLS
 * configuration surface. Trust is explicit: with a CA the client trusts that CA alone (Node's `ca` option
 * replaces the built-in roots); verification is never switched off, and TLS below 1.3 is refused.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { type IncomingMessage } from 'node:http';
import { CliError, ExitCode, type FieldDetail, usageError } from './errors';
import { CHAIN_VERIFY_ERROR_CODES } from '@palisade/pki';

/** Limits, named in one place. */
export const CLIENT_DEFAULTS = {
  /** A whole request, connect to last byte; export of a large namespace is the slow case. */
  timeoutMs: 30_000,
  /** Refuse bigger answers rather than buffer without bound. */
  maxResponseBytes: 64 * 1024 * 1024,
  userAgent: 'palisade-cli/0.1.0',
} as const;

export interface ClientOptions {
  url: string;
  token: string;
  caPem?: string;
  timeoutMs?: number;
}

export type Query = Record<string, string | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
}

export interface ApiResponse {
  status: number;
  contentType: string;
  text: string;
}

/** An API object as the CLI sees it: the fields it reads are optional, the rest passes through untouched. */
export interface ApiObject {
  id?: string;
  name?: string;
  namespace?: string;
  [field: string]: unknown;
}

/** TLS failures that mean "this is not the server you trust" rather than "nobody answered". */
const TLS_TRUST_CODES = new Set([...CHAIN_VERIFY_ERROR_CODES, 'ERR_TLS_CERT_ALTNAME_INVALID']);

export class ApiClient {
  private readonly base: URL;
  private readonly agent: Agent;

  /** Validates the URL (https only) up front so a typo is a usage error, not a connection error. */
  constructor(private readonly options: ClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw usageError('url_invalid', `"${options.url}" is not a URL (expected https://host:port)`);
    }
    if (base.protocol !== 'https:') {
      throw usageError('url_insecure', `${options.url}: the control plane is only reached over https`);
    }
    this.base = base;
    // A private agent: no keep-alive (one-shot process), and the CA applies to this client only.
    this.agent = new Agent({
      keepAlive: false,
      minVersion: 'TLSv1.3',
      ...(options.caPem ? { ca: options.caPem } : {}),
    });
  }

  /** The absolute URL of an API path with its query; `undefined`/`false` query values are left out. */
  urlFor(path: string, query: Query = {}): URL {
    const u = new URL(this.base.href);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}${path}`;
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== false) {
        u.searchParams.set(k, String(v));
      }
    }
    return u;
  }

  /**
   * Sends one request and resolves with the raw answer when the status is 2xx. Any other status throws a
   * CliError (exit 1) built from the API's error envelope `{ statusCode, code, message, requestId,
   * details? }`; no answer at all (refused, DNS, TLS trust, timeout) throws a CliError with exit 3.
   */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const url = this.urlFor(path, opts.query);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.token}`,
      accept: 'application/json',
      'user-agent': CLIENT_DEFAULTS.userAgent,
    };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const res = await new Promise<ApiResponse>((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, agent: this.agent }, (msg) => {
        readBody(msg).then(resolve, reject);
      });
      req.setTimeout(this.options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs, () => {
        req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
      });
      req.on('error', (err) => reject(connectionError(this.base, err as NodeJS.ErrnoException)));
      req.end(payload);
    });
    if (res.status < 200 || res.status > 299) {
      throw apiError(res);
    }
    return res;
  }

  /** `request` and parse the body as JSON; an empty body (204) is `null`. */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    if (res.text.trim() === '') {
      return null as T;
    }
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new CliError('response_invalid', `${method} ${path}: the control plane answered with something that is not JSON`, ExitCode.api);
    }
  }

  /**
   * Lists one resource. Accepts a bare array (the Aporeto style) or an object carrying the array in
   * `items` or `data`, so the CLI does not break if the API adds paging metadata around the list.
   */
  async list(identity: string, query: Query): Promise<ApiObject[]> {
    const body = await this.json<unknown>('GET', `/v1/${identity}`, { query });
    if (Array.isArray(body)) {
      return body as ApiObject[];
    }
    if (body && typeof body === 'object') {
      for (const key of ['items', 'data']) {
        const inner = (body as Record<string, unknown>)[key];
        if (Array.isArray(inner)) {
          return inner as ApiObject[];
        }
      }
    }
    throw new CliError('response_invalid', `GET /v1/${identity}: expected a list`, ExitCode.api);
  }
}

function readBody(msg: IncomingMessage): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    msg.on('data', (c: Buffer) => {
      size += c.length;
      if (size > CLIENT_DEFAULTS.maxResponseBytes) {
        msg.destroy();
        reject(new CliError('response_too_large', `the answer exceeds ${CLIENT_DEFAULTS.maxResponseBytes} bytes`, ExitCode.api));
        return;
      }
      chunks.push(c);
    });
    msg.on('end', () =>
      resolve({
        status: msg.statusCode ?? 0,
        contentType: String(msg.headers['content-type'] ?? ''),
        text: Buffer.concat(chunks).toString('utf8'),
      }),
    );
    msg.on('error', reject);
  });
}

/** Turns a non-2xx answer into a CliError, reading the error envelope when there is one. */
export function apiError(res: ApiResponse): CliError {
  let env: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(res.text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      env = parsed as Record<string, unknown>;
    }
  } catch {
    env = null;
  }
  const code = typeof env?.code === 'string' && env.code ? env.code : `http_${res.status}`;
  const message =
    typeof env?.message === 'string' && env.message
      ? env.message
      : res.text.trim().slice(0, 200) || `the control plane answered ${res.status}`;
  const fields: FieldDetail[] = Array.isArray(env?.details)
    ? (env.details as unknown[]).flatMap((d) =>
        d && typeof d === 'object' && typeof (d as FieldDetail).field === 'string'
          ? [{ field: (d as FieldDetail).field, code: (d as FieldDetail).code, message: (d as FieldDetail).message }]
          : [],
      )
    : [];
  const requestId = typeof env?.requestId === 'string' ? env.requestId : undefined;
  return new CliError(code, message, ExitCode.api, fields, requestId, res.status);
}

function connectionError(base: URL, err: NodeJS.ErrnoException): CliError {
  const code = err.code ?? '';
  if (TLS_TRUST_CODES.has(code)) {
    return new CliError(
      'tls_untrusted',
      `${base.origin} presented a certificate this CLI does not trust (${code}); pass --ca <data dir>/ca.pem to login or set PALISADE_CA`,
      ExitCode.connection,
    );
  }
  if (code === 'ETIMEDOUT') {
    return new CliError('timeout', `${base.origin} did not answer in time`, ExitCode.connection);
  }
  return new CliError('connection_failed', `cannot reach ${base.origin}: ${err.message}`, ExitCode.connection);
}
