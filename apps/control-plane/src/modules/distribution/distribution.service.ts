import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import WebSocket, { WebSocketServer } from 'ws';
import { compile, compileFor, type PolicyState, type RuleSet } from '@palisade/policy';
import { PkiError, verifyChain } from '@palisade/pki';
import {
  CONTROL_CHANNEL_PATH,
  MAX_MESSAGE_BYTES,
  normalizeSerial,
  parseAgentMessage,
  ProtocolError,
  type AgentMessage,
  type ServerMessage,
} from '@palisade/protocol';
import { ApiError } from '../../common/api-error';
import { ChangeService, type ChangeEvent } from '../../database/change.service';
import { AgentsService } from '../agents/agents.service';
import { FlowReportsService } from '../flowreports/flowreports.service';
import { StateSource } from './state-source';

/** Changes arriving within this window are compiled and pushed together. */
const COALESCE_MS = 10;
/** A socket that sends nothing (not even a ping) for this long is closed. */
const SILENT_TIMEOUT_MS = 20_000;
/** last_seen_at is written at most this often per agent. */
const SEEN_WRITE_MS = 5_000;

interface Session {
  agentId: string;
  ws: WebSocket;
  serials: Set<string>;
  helloDone: boolean;
  /** Order of the completed hello (see recompute: a snapshot read before it must not be pushed to it). */
  helloSeq: number;
  sentHash: string | null;
  lastMessageAt: number;
  lastSeenWrite: number;
  /**
   * The tail of this socket's message handling. Messages are handled one after another, in the order they
   * arrived: an agent may send hello and, at once, a csr or a ping; handled concurrently, the second one would
   * find the hello unfinished (closed as "hello first", or a csr before its units are registered).
   */
  inbox: Promise<void>;
  /** Certificate requests being issued for this socket (they do not hold the inbox; see 'csr' in handle). */
  csrInFlight: number;
}

/** Certificate requests one socket may have in issuance before its further messages wait. */
const CSR_IN_FLIGHT = 64;

/**
 * The agents' control channel (DESIGN.md §5): a WebSocket on the API's own HTTPS server at /v1/agents/connect.
 *
 * - Authentication is the agent's client certificate on the TLS connection, verified against the current trust
 *   bundle and deny list at upgrade time; anything else gets a plain 401 and the socket is closed before any
 *   WebSocket exists.
 * - Every inbound message is schema-checked (@palisade/protocol); a malformed or oversize one closes that socket
 *   only (ws enforces maxPayload with close code 1009).
 * - Committed changes arrive from ChangeService (Postgres LISTEN/NOTIFY, so a change written through any
 *   replica reaches the agents connected to every replica). Bursts are coalesced, the state is read once, and each
 *   connected agent whose compiled rule set changed (its content hash, which excludes the revision) gets it.
 */
@Injectable()
export class DistributionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Distribution');
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  private readonly sessions = new Map<string, Session>();
  private unsubscribe: (() => void) | null = null;
  /** The deny list of the last pass (null before the first): what a pass adds is sent as `revoke` at once. */
  private denied: Set<string> | null = null;
  private pending: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private helloCounter = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private server: Server | null = null;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly changes: ChangeService,
    private readonly state: StateSource,
    private readonly agents: AgentsService,
    private readonly flows: FlowReportsService,
  ) {}

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.onUpgrade);
    this.unsubscribe = this.changes.onChange((c) => this.onChange(c));
    this.sweeper = setInterval(() => this.sweep(), 5_000);
    this.sweeper.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    this.server?.off('upgrade', this.onUpgrade);
    if (this.pending) {
      clearTimeout(this.pending);
    }
    if (this.sweeper) {
      clearInterval(this.sweeper);
    }
    const ids = [...this.sessions.keys()];
    for (const s of this.sessions.values()) {
      s.ws.close(1001, 'control plane shutting down');
    }
    this.sessions.clear();
    await this.agents.flushApplied();
    await Promise.allSettled(ids.map((id) => this.agents.markDisconnected(id)));
    await this.running?.catch(() => undefined);
  }

  /** Agents with a socket on this replica (for tests and metrics). */
  connectedAgentIds(): string[] {
    return [...this.sessions.keys()];
  }

  private refuse(socket: Duplex, status: number, why: string): void {
    socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== CONTROL_CHANNEL_PATH) {
      this.refuse(socket, 404, 'Not Found');
      return;
    }
    socket.on('error', () => undefined);
    let agentId: string;
    let serials: Set<string>;
    try {
      ({ agentId, serials } = await this.authenticate(req.socket as TLSSocket));
    } catch (e) {
      this.log.warn(JSON.stringify({ event: 'agent_channel_refused', reason: e instanceof Error ? e.message : String(e) }));
      this.refuse(socket, 401, 'Unauthorized');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(agentId, serials, ws));
  }

  /** The agent certificate check: a chain to the current bundle, not deny-listed, an agent that is not revoked. */
  async authenticate(tls: TLSSocket): Promise<{ agentId: string; serials: Set<string> }> {
    const peer = typeof tls.getPeerCertificate === 'function' ? tls.getPeerCertificate(true) : null;
    if (!peer || !peer.raw) {
      throw new Error('no client certificate');
    }
    const chain: string[] = [];
    let c: typeof peer | undefined = peer;
    const seen = new Set<string>();
    while (c && c.raw && !seen.has(c.fingerprint256)) {
      seen.add(c.fingerprint256);
      chain.push(`-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
      c = c.issuerCertificate as typeof peer | undefined;
    }
    const state = await this.state.current();
    let verified;
    try {
      verified = await verifyChain({ chainPem: chain.join(''), trustBundle: state.trustBundle, denyList: state.denyList });
    } catch (e) {
      throw new Error(e instanceof PkiError ? e.code : 'certificate invalid');
    }
    if (verified.identity.kind !== 'agent') {
      throw new Error('not an agent certificate');
    }
    const agent = await this.agents.find(verified.identity.id);
    if (!agent || agent.revokedAt) {
      throw new Error('agent unknown or revoked');
    }
    return { agentId: agent.id, serials: new Set([normalizeSerial(verified.serial)]) };
  }

  private attach(agentId: string, serials: Set<string>, ws: WebSocket): void {
    const old = this.sessions.get(agentId);
    if (old) {
      old.ws.close(4409, 'replaced by a newer connection');
    }
    const s: Session = { agentId, ws, serials, helloDone: false, helloSeq: 0, sentHash: null, lastMessageAt: Date.now(), lastSeenWrite: 0, inbox: Promise.resolve(), csrInFlight: 0 };
    this.sessions.set(agentId, s);
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      s.lastMessageAt = Date.now();
      let m: AgentMessage;
      try {
        if (isBinary) {
          throw new ProtocolError('message_malformed', 'binary frames are not part of the protocol');
        }
        m = parseAgentMessage(data as Buffer);
      } catch (e) {
        this.log.warn(JSON.stringify({ event: 'agent_message_malformed', agentId, error: e instanceof Error ? e.message : String(e) }));
        ws.close(1008, 'malformed message');
        return;
      }
      s.inbox = s.inbox
        .then(() => this.handle(s, m))
        .catch((e: unknown) => {
          this.log.error(JSON.stringify({ event: 'agent_message_failed', agentId, type: m.type, error: e instanceof Error ? e.message : String(e) }));
        });
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (this.sessions.get(agentId) === s) {
        this.sessions.delete(agentId);
        // After the messages already taken: a hello still being handled would otherwise mark it connected again.
        s.inbox = s.inbox.then(() => this.agents.markDisconnected(agentId)).catch(() => undefined);
      }
    });
  }

  private send(s: Session, m: ServerMessage): void {
    if (s.ws.readyState === WebSocket.OPEN) {
      s.ws.send(JSON.stringify(m));
    }
  }

  /** Answers one csr message with a cert or an error for its requestId; the caller counted it in csrInFlight. */
  private async issue(s: Session, m: Extract<AgentMessage, { type: 'csr' }>): Promise<void> {
    try {
      const r = await this.agents.issueOverChannel(s.agentId, { subject: m.subject, puName: m.puName, csr: m.csr });
      this.send(s, {
        type: 'cert',
        requestId: m.requestId,
        subject: m.subject,
        ...(m.puName !== undefined ? { puName: m.puName } : {}),
        ...(r.puId ? { puId: r.puId } : {}),
        certificate: r.certificate,
        notAfter: r.notAfter.toISOString(),
        trustBundle: r.trustBundle,
      });
    } catch (e) {
      const code = e instanceof ApiError ? e.code : 'internal_error';
      const message = e instanceof ApiError ? e.message : 'the certificate could not be issued';
      this.send(s, { type: 'error', requestId: m.requestId, code, message });
      if (code === 'agent_revoked') {
        s.ws.close(4403, 'agent revoked');
      }
    } finally {
      s.csrInFlight--;
    }
  }

  private async handle(s: Session, m: AgentMessage): Promise<void> {
    if (!s.helloDone && m.type !== 'hello') {
      s.ws.close(1008, 'hello first');
      return;
    }
    switch (m.type) {
      case 'hello': {
        if (m.agentId !== s.agentId) {
          s.ws.close(1008, 'agentId does not match the certificate');
          return;
        }
        const agent = await this.agents.find(s.agentId);
        if (!agent || agent.revokedAt) {
          s.ws.close(4403, 'agent revoked');
          return;
        }
        await this.agents.registerPus(agent, m.pus);
        await this.agents.markConnected(s.agentId, { version: m.version, capabilities: m.capabilities, hostname: m.hostname });
        s.helloSeq = ++this.helloCounter;
        s.helloDone = true;
        // The agent says what it holds: if that is already current, nothing needs to be sent.
        s.sentHash = m.appliedHash;
        // Every push goes through the one serialised recompute loop, so pushes (and the desired revision they
        // record) never overtake each other; the loop skips agents whose hash is already current.
        void this.recompute();
        return;
      }
      case 'csr': {
        // Issued beside the messages that follow (replies carry the requestId), so an agent renewing many units at
        // once has them group-committed together; past CSR_IN_FLIGHT the inbox waits — backpressure, not a queue.
        s.csrInFlight++;
        const issuing = this.issue(s, m);
        if (s.csrInFlight > CSR_IN_FLIGHT) {
          await issuing;
        }
        return;
      }
      case 'ack':
        this.agents.queueApplied(s.agentId, m.revision, m.hash);
        return;
      case 'nack':
        await this.agents.flushApplied();
        await this.agents.markApplied(s.agentId, m.revision, m.hash, m.reason);
        return;
      case 'flows':
        await this.flows.store(s.agentId, m.records);
        return;
      case 'ping':
        // Answered after the queued acks are written: a pong after an ack means the ack is recorded.
        await this.agents.flushApplied();
        this.send(s, { type: 'pong', ts: m.ts });
        if (Date.now() - s.lastSeenWrite > SEEN_WRITE_MS) {
          s.lastSeenWrite = Date.now();
          await this.agents.markSeen(s.agentId);
        }
        return;
      case 'pong':
        return;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  private onChange(_c: ChangeEvent): void {
    if (this.pending) {
      return;
    }
    this.pending = setTimeout(() => {
      this.pending = null;
      void this.recompute();
    }, COALESCE_MS);
  }

  /** Reads the state once and pushes to every connected agent whose rule set changed. Never runs twice at once. */
  private async recompute(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          // Only sessions whose hello (and so its unit registration) completed before this snapshot was read get
          // a rule set from it; a later hello has asked for another pass (`again`), which will include it.
          const seen = this.helloCounter;
          const state = await this.state.load();
          const live = new Set(state.agents.map((a) => a.id));
          const revokedSerials = new Set(state.denyList);
          for (const s of [...this.sessions.values()]) {
            if (!live.has(s.agentId) || [...s.serials].some((x) => revokedSerials.has(x))) {
              s.ws.close(4403, 'agent revoked');
            }
          }
          // Newly revoked serials go to every agent at once as a `revoke` message, ahead of the compile and the
          // rule sets that carry them too: an agent acts on it without waiting for its rule-set pipeline.
          const fresh = this.denied === null ? [] : state.denyList.filter((x) => !this.denied!.has(x));
          this.denied = revokedSerials;
          if (fresh.length > 0) {
            for (const s of this.sessions.values()) {
              if (s.helloDone) {
                this.send(s, { type: 'revoke', serials: fresh });
              }
            }
          }
          await this.pushTo([...this.sessions.values()].filter((s) => s.helloDone && s.helloSeq <= seen), state);
        } catch (e) {
          this.log.error(JSON.stringify({ event: 'distribution_failed', error: e instanceof Error ? e.message : String(e) }));
        }
      } while (this.again);
    })();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
  }

  /**
   * Compiles for each session and sends what changed. The desired revision is recorded (one statement for all of
   * them) before anything is sent, so once an agent holds a rule set, GET /v1/agents already names it as desired.
   */
  private async pushTo(sessions: Session[], state: PolicyState): Promise<void> {
    // Only ever called from recompute(), which never runs twice at once.
    const live = new Set(state.agents.map((a) => a.id));
    const targets = sessions.filter((s) => live.has(s.agentId));
    // One compile for all agents shares the indexing work (policies, services, canonical JSON) across them;
    // a single agent is compiled alone.
    const all = targets.length > 1 ? new Map(compile(state).map((r) => [r.agentId, r])) : null;
    const out: { s: Session; rs: RuleSet }[] = [];
    for (const s of targets) {
      const rs: RuleSet = all?.get(s.agentId) ?? compileFor(state, s.agentId);
      if (rs.hash !== s.sentHash) {
        out.push({ s, rs });
      }
    }
    if (out.length === 0) {
      return;
    }
    await this.agents.markDesiredMany(out.map(({ s, rs }) => ({ agentId: s.agentId, revision: rs.revision, hash: rs.hash })));
    for (const { s, rs } of out) {
      s.sentHash = rs.hash;
      this.send(s, { type: 'ruleset', ruleSet: rs });
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const s of this.sessions.values()) {
      if (now - s.lastMessageAt > SILENT_TIMEOUT_MS) {
        s.ws.terminate();
      }
    }
  }
}
