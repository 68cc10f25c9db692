import { request } from 'node:https';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { createCsr, generateKeyPair } from '@palisade/pki';
import { decodeEnrollmentToken, ProtocolError } from '@palisade/protocol';
import { ENROLL_TIMEOUT_MS } from '../defaults';
import { StateStore } from '../certs/state-store';

/** Every way enrollment can fail, each with its own one-line message and the same non-zero exit. */
export type EnrollErrorCode =
  | 'token_malformed'
  | 'token_expired'
  | 'token_rejected'
  | 'unreachable'
  | 'fingerprint_mismatch'
  | 'tls_failed'
  | 'server_error'
  | 'already_enrolled';

export class EnrollError extends Error {
  constructor(
    readonly code: EnrollErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EnrollError';
  }
}

export interface EnrollOptions {
  token: string;
  stateDir: string;
  name?: string;
  force?: boolean;
  log?: (line: string) => void;
  now?: () => Date;
}

export interface EnrollResult {
  agentId: string;
  namespace: string;
  controlPlaneUrl: string;
}

const hex = (fp: string) => fp.replace(/:/g, '').toLowerCase();

/**
 * Reads the control plane's certificate chain without trusting it yet and returns the PEM of its root (the
 * self-signed certificate at the top of the chain the server sent). The caller compares its fingerprint with the
 * one the token carries before it sends anything — the token's secret included — so an impostor control plane
 * never sees the secret.
 */
async function fetchPinnedRoot(url: URL, expectedFingerprint: string): Promise<string> {
  const port = Number(url.port || 443);
  const socket: TLSSocket = await new Promise<TLSSocket>((resolve, reject) => {
    const s = connect({
      host: url.hostname,
      port,
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
    });
    const t = setTimeout(() => s.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), ENROLL_TIMEOUT_MS);
    s.once('secureConnect', () => {
      clearTimeout(t);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  }).catch((e: NodeJS.ErrnoException) => {
    throw new EnrollError('unreachable', `cannot reach the control plane at ${url.origin}: ${e.code ?? e.message}`);
  });
  try {
    let cert: PeerCertificate & { issuerCertificate?: PeerCertificate } = socket.getPeerCertificate(true);
    const seen = new Set<string>();
    while (cert.issuerCertificate && cert.issuerCertificate !== cert && !seen.has(cert.fingerprint256)) {
      seen.add(cert.fingerprint256);
      cert = cert.issuerCertificate;
    }
    if (!cert.raw) {
      throw new EnrollError('tls_failed', `the control plane at ${url.origin} sent no certificate`);
    }
    const got = hex(cert.fingerprint256);
    if (got !== expectedFingerprint) {
      throw new EnrollError(
        'fingerprint_mismatch',
        `the control plane at ${url.origin} is not the one the token names: its CA fingerprint is ${got}, the token expects ${expectedFingerprint}`,
      );
    }
    return new X509Certificate(cert.raw).toString();
  } finally {
    socket.destroy();
  }
}

function postJson(url: URL, path: string, body: unknown, ca: string): Promise<{ status: number; body: unknown }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: Number(url.port || 443),
        path,
        method: 'POST',
        ca,
        minVersion: 'TLSv1.3',
        headers: { 'content-type': 'application/json', 'content-length': data.length },
        timeout: ENROLL_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: unknown = null;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = null;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Enrolls this host: checks the token, pins the control plane by the CA fingerprint the token carries, generates
 * the agent's key locally (it never leaves this host), sends only a CSR, and stores agent.key (0600), agent.crt and
 * bundle.pem in the state directory. Throws EnrollError with a one-line message for every failure; writes nothing
 * unless enrollment succeeded.
 */
export async function enroll(o: EnrollOptions): Promise<EnrollResult> {
  const log = o.log ?? (() => undefined);
  const now = o.now ?? (() => new Date());
  const store = new StateStore(o.stateDir);
  if (store.isEnrolled() && !o.force) {
    throw new EnrollError('already_enrolled', `${o.stateDir} already holds an enrolled agent (use --force to replace it)`);
  }
  let token;
  try {
    token = decodeEnrollmentToken(o.token.trim());
  } catch (e) {
    throw new EnrollError('token_malformed', e instanceof ProtocolError ? e.message : 'enrollment token is malformed');
  }
  if (token.expiresAt && Date.parse(token.expiresAt) <= now().getTime()) {
    throw new EnrollError('token_expired', `the enrollment token expired at ${token.expiresAt}; ask for a new one`);
  }
  const url = new URL(token.url);
  log(`token ok: control plane ${url.origin}, CA fingerprint ${token.caFingerprint.slice(0, 16)}…`);
  const rootPem = await fetchPinnedRoot(url, token.caFingerprint);
  log('control plane verified: its CA matches the token');
  const { privateKeyPem } = await generateKeyPair();
  const csr = await createCsr(privateKeyPem, o.name ?? hostname());
  log('generated an ECDSA P-256 key locally; sending a certificate request');
  let res;
  try {
    res = await postJson(url, '/v1/enroll', { token: o.token.trim(), csr, hostname: o.name ?? hostname() }, rootPem);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new EnrollError('unreachable', `cannot reach the control plane at ${url.origin}: ${err.code ?? err.message}`);
  }
  const body = res.body as Record<string, unknown> | null;
  if (res.status === 401 || res.status === 403 || (res.status === 400 && body?.code === 'enrollment_token_invalid')) {
    throw new EnrollError('token_rejected', 'the control plane refused the token: it is unknown, revoked or already used');
  }
  if (res.status !== 201 && res.status !== 200) {
    throw new EnrollError('server_error', `enrollment failed: ${res.status} ${String(body?.code ?? '')} ${String(body?.message ?? '')}`.trim());
  }
  const b = body as { agentId: string; namespace: string; certificate: string; trustBundle: string[]; trustDomain: string };
  await store.saveEnrollment(
    {
      agentId: b.agentId,
      namespace: b.namespace,
      controlPlaneUrl: url.origin,
      caFingerprint: token.caFingerprint,
      trustDomain: b.trustDomain,
      enrolledAt: now().toISOString(),
    },
    privateKeyPem,
    b.certificate,
    b.trustBundle,
  );
  log(`enrolled as agent ${b.agentId} in ${b.namespace}; credentials stored in ${o.stateDir}`);
  return { agentId: b.agentId, namespace: b.namespace, controlPlaneUrl: url.origin };
}
