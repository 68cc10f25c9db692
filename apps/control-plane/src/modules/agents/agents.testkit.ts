// Test support (not a spec): a stand-in agent that speaks the control channel with `ws` directly — real TLS,
// a real key generated here, a certificate obtained through POST /v1/enroll — so the agent-facing specs drive
// the control plane exactly as a host would, and can also misbehave on purpose (bad frames, foreign certs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createCsr, generateKeyPair } from '@palisade/pki';
import { CONTROL_CHANNEL_PATH, type AgentMessage, type DeclaredPu, type ServerMessage } from '@palisade/protocol';
import { type RuleSet } from '@palisade/policy';
import { type TestApp } from '../../testing/test-app';

export const NS = '/aporeto/lbtest3';
const examples = join(__dirname, '..', '..', '..', '..', '..', '..', 'examples');

/** Imports both seed examples into /aporeto/lbtest3 (creating the namespace). */
export async function importSeeds(t: TestApp): Promise<void> {
  for (const f of ['seed-policy.yaml', 'seed-lb-service.yaml']) {
    const r = await t.call('POST', `/v1/import?createNamespaces=true&namespace=${NS}`, { body: readFileSync(join(examples, f), 'utf8') });
    if (r.status !== 200) {
      throw new Error(`import ${f}: ${r.status} ${r.text}`);
    }
  }
}

export interface AgentCredential {
  agentId: string;
  namespace: string;
  keyPem: string;
  /** Leaf + issuing CA, as /v1/enroll returned it. */
  certPem: string;
  trustBundle: string[];
}

/** Creates a token (admin caller) and redeems it with a freshly generated key. */
export async function enrollAgent(t: TestApp, o: { namespace?: string; tags?: string[]; hostname?: string } = {}): Promise<AgentCredential> {
  const tok = await t.call('POST', '/v1/enrollmenttokens', { body: { namespace: o.namespace ?? NS, tags: o.tags ?? [] } });
  if (tok.status !== 201) {
    throw new Error(`enrollment token: ${tok.status} ${tok.text}`);
  }
  const { privateKeyPem } = await generateKeyPair();
  const r = await t.call('POST', '/v1/enroll', { token: null, body: { token: tok.body.token, csr: await createCsr(privateKeyPem, 'agent'), hostname: o.hostname ?? 'host-a' } });
  if (r.status !== 201) {
    throw new Error(`enroll: ${r.status} ${r.text}`);
  }
  return { agentId: r.body.agentId, namespace: r.body.namespace, keyPem: privateKeyPem, certPem: r.body.certificate, trustBundle: r.body.trustBundle };
}

export function helloFor(agentId: string, o: { pus?: DeclaredPu[]; appliedHash?: string | null; appliedRevision?: number | null } = {}): AgentMessage {
  return {
    type: 'hello',
    protocol: 1,
    agentId,
    appliedRevision: o.appliedRevision ?? null,
    appliedHash: o.appliedHash ?? null,
    version: '9.9.9-test',
    capabilities: ['explicit', 'flows'],
    hostname: 'host-a',
    pus: o.pus ?? [],
  };
}

export const HOST_SERVICE: DeclaredPu = { name: 'tcp:8106', type: 'HostService', associatedTags: ['hs:name=tcp:8106'], ports: ['tcp/8106'] };

/** The outcome of an upgrade attempt: an open socket, or the HTTP status the server refused it with. */
export type Dial = { kind: 'open'; ws: WebSocket } | { kind: 'refused'; status: number } | { kind: 'error'; message: string };

/** Dials /v1/agents/connect with the given client credentials (none → no client certificate at all). */
export function dial(t: TestApp, cred?: { keyPem: string; certPem: string }): Promise<Dial> {
  const ca = readFileSync(t.cp.caFile, 'utf8');
  const ws = new WebSocket(`${t.cp.url.replace(/^https/, 'wss')}${CONTROL_CHANNEL_PATH}`, {
    ca,
    ...(cred ? { key: cred.keyPem, cert: cred.certPem } : {}),
    minVersion: 'TLSv1.3',
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ kind: 'open', ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ kind: 'refused', status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (e) => resolve({ kind: 'error', message: e.message }));
  });
}

/** Upper bound for waiting on a message that must come; a failure, never a measurement. */
const WAIT_MS = 15_000;

/** A connected stand-in agent: queues every server message and lets a spec await the next of a type. */
export class AgentSocket {
  private readonly queue: ServerMessage[] = [];
  private readonly waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  isClosed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as ServerMessage;
      const i = this.waiters.findIndex((w) => w.pred(m));
      if (i >= 0) {
        this.waiters.splice(i, 1)[0].resolve(m);
      } else {
        this.queue.push(m);
      }
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number, reason: Buffer) => {
        this.isClosed = true;
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Connects with the agent's credentials and, unless `hello` is false, says hello. */
  static async open(t: TestApp, cred: { keyPem: string; certPem: string; agentId: string }, hello: AgentMessage | false = helloFor(cred.agentId)): Promise<AgentSocket> {
    const d = await dial(t, cred);
    if (d.kind !== 'open') {
      throw new Error(`control channel refused: ${JSON.stringify(d)}`);
    }
    const s = new AgentSocket(d.ws);
    if (hello) {
      s.send(hello);
    }
    return s;
  }

  send(m: AgentMessage | string | Buffer, binary = false): void {
    this.ws.send(typeof m === 'string' || Buffer.isBuffer(m) ? m : JSON.stringify(m), { binary });
  }

  /** The next queued or arriving message that satisfies `pred` (other messages stay queued). */
  next<T extends ServerMessage['type']>(type: T, pred: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true): Promise<Extract<ServerMessage, { type: T }>> {
    const p = (m: ServerMessage) => m.type === type && pred(m as Extract<ServerMessage, { type: T }>);
    const i = this.queue.findIndex(p);
    if (i >= 0) {
      return Promise.resolve(this.queue.splice(i, 1)[0] as Extract<ServerMessage, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} message within ${WAIT_MS} ms; queued: ${this.queue.map((m) => m.type).join(',')}`)), WAIT_MS);
      timer.unref();
      this.waiters.push({ pred: p, resolve: (m) => (clearTimeout(timer), resolve(m as Extract<ServerMessage, { type: T }>)) });
    });
  }

  /** Everything received and not yet consumed, in order (consumes it). */
  drain(): ServerMessage[] {
    return this.queue.splice(0);
  }

  /** The next rule set. */
  async ruleSet(pred: (rs: RuleSet) => boolean = () => true): Promise<RuleSet> {
    return (await this.next('ruleset', (m) => pred(m.ruleSet as RuleSet))).ruleSet as RuleSet;
  }

  /**
   * A round trip that orders this socket: the server handles one socket's messages in order, so every message
   * it sent in answer to what came before the ping arrives before the pong.
   */
  async barrier(): Promise<void> {
    const ts = Math.floor(Math.random() * 1e9);
    this.send({ type: 'ping', ts });
    await this.next('pong', (m) => m.ts === ts);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Creates a network policy and returns its id. */
export async function createPolicy(t: TestApp, body: Record<string, unknown>): Promise<string> {
  const r = await t.call('POST', '/v1/networkaccesspolicies', { body: { namespace: NS, action: 'Allow', ...body } });
  if (r.status !== 201) {
    throw new Error(`policy: ${r.status} ${r.text}`);
  }
  return r.body.id as string;
}
