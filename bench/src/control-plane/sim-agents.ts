// Simulated agents for the control-plane figures: lightweight `ws` clients with real certificates. Each is
// enrolled through POST /v1/enroll from a CSR (which is also the certificates-per-second figure), opens the
// control channel with its own certificate, says hello declaring one host service, and acks every rule set
// the moment it arrives — so the time from a policy write to the last agent's rule set is the time to every
// agent's ack, minus one loopback hop.
import { request } from 'node:https';
import WebSocket from 'ws';
import { createCsr, generateKeyPair } from '@palisade/pki';

export interface Api {
  url: string;
  ca: string;
  token: string;
}

/** One HTTPS JSON call; resolves with status and parsed body. */
export function call(api: Api, method: string, path: string, body?: unknown, auth = true): Promise<{ status: number; body: Record<string, unknown> }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      `${api.url}${path}`,
      {
        method,
        ca: api.ca,
        agent: false,
        headers: { ...(auth ? { authorization: `Bearer ${api.token}` } : {}), ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const t = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = t ? (JSON.parse(t) as Record<string, unknown>) : {};
          } catch {
            parsed = { text: t };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(data);
  });
}

export interface Credential {
  agentId: string;
  keyPem: string;
  certPem: string;
}

/**
 * Enrolls `n` agents in `namespace` with `parallel` requests in flight; returns them and the issue rate.
 * One key pair is shared by the simulated agents (key generation is the agent's cost, not the control
 * plane's); every agent still gets its own certificate, serial and identity.
 */
export async function enrollMany(api: Api, namespace: string, n: number, parallel = 16): Promise<{ creds: Credential[]; perSecond: number }> {
  const tok = await call(api, 'POST', '/v1/enrollmenttokens', { namespace, maxUses: n, ttlSeconds: 3600 });
  if (tok.status !== 201) {
    throw new Error(`enrollment token: ${tok.status} ${JSON.stringify(tok.body)}`);
  }
  const { privateKeyPem } = await generateKeyPair();
  const csr = await createCsr(privateKeyPem, 'sim-agent');
  const creds: Credential[] = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const i = next++;
        const r = await call(api, 'POST', '/v1/enroll', { token: tok.body.token, csr, hostname: `sim-${i}` }, false);
        if (r.status !== 201) {
          throw new Error(`enroll: ${r.status} ${JSON.stringify(r.body)}`);
        }
        creds.push({ agentId: String(r.body.agentId), keyPem: privateKeyPem, certPem: String(r.body.certificate) });
      }
    }),
  );
  return { creds, perSecond: n / (Number(process.hrtime.bigint() - t0) / 1e9) };
}

/** A connected simulated agent: remembers the last rule-set hash and when it arrived, acks each one. */
export class SimAgent {
  lastHash: string | null = null;
  lastAt = 0;
  private waiters: (() => void)[] = [];
  private readonly certWaiters = new Map<string, (r: { ok: boolean; detail: string }) => void>();
  private requests = 0;
  private readonly keepAlive: NodeJS.Timeout;

  private constructor(readonly ws: WebSocket) {
    // The control plane closes a socket that stays silent for 20 s; a real agent pings, so does this one.
    this.keepAlive = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'ping', ts: Date.now() })), 5_000);
    this.keepAlive.unref();
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { type: string; ruleSet?: { hash: string; revision: number }; requestId?: string; code?: string };
      if ((m.type === 'cert' || m.type === 'error') && m.requestId) {
        this.certWaiters.get(m.requestId)?.({ ok: m.type === 'cert', detail: m.code ?? '' });
        this.certWaiters.delete(m.requestId);
        return;
      }
      if (m.type === 'ruleset' && m.ruleSet) {
        this.lastAt = Number(process.hrtime.bigint()) / 1e6;
        this.lastHash = m.ruleSet.hash;
        ws.send(JSON.stringify({ type: 'ack', revision: m.ruleSet.revision, hash: m.ruleSet.hash }));
        this.waiters.splice(0).forEach((w) => w());
      }
    });
    ws.on('error', () => undefined);
  }

  static connect(api: Api, cred: Credential): Promise<SimAgent> {
    const ws = new WebSocket(`${api.url.replace(/^https/, 'wss')}/v1/agents/connect`, { ca: api.ca, key: cred.keyPem, cert: cred.certPem, minVersion: 'TLSv1.3', perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        const a = new SimAgent(ws);
        ws.send(
          JSON.stringify({
            type: 'hello',
            protocol: 1,
            agentId: cred.agentId,
            appliedRevision: null,
            appliedHash: null,
            version: 'bench',
            capabilities: ['explicit'],
            hostname: `sim-${cred.agentId}`,
            pus: [{ name: 'tcp:8106', type: 'HostService', associatedTags: ['hs:name=tcp:8106'], ports: ['tcp/8106'] }],
          }),
        );
        resolve(a);
      });
      ws.once('unexpected-response', (_q, res) => reject(new Error(`control channel refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Sends a csr message for the unit `puName`; resolves when its certificate arrives, rejects on an error reply. */
  requestCertificate(csr: string, puName: string): Promise<void> {
    const requestId = `r${++this.requests}`;
    return new Promise((resolve, reject) => {
      this.certWaiters.set(requestId, (r) => (r.ok ? resolve() : reject(new Error(`csr refused: ${r.detail}`))));
      this.ws.send(JSON.stringify({ type: 'csr', requestId, subject: 'pu', puName, csr }));
    });
  }

  /** Resolves when a rule set other than `notHash` has arrived (at once if it already has). */
  waitForChange(notHash: string | null, timeoutMs = 60_000): Promise<void> {
    if (this.lastHash !== null && this.lastHash !== notHash) {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`agent: no new rule set within ${timeoutMs} ms`)), timeoutMs);
      const check = (): void => {
        if (this.lastHash !== null && this.lastHash !== notHash) {
          clearTimeout(t);
          resolve();
        } else {
          this.waiters.push(check);
        }
      };
      this.waiters.push(check);
    });
  }

  close(): void {
    clearInterval(this.keepAlive);
    this.ws.terminate();
  }
}
