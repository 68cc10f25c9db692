// OutboundListener: the client side of the datapath. A plain TCP listener per service; each accepted
// connection is attributed to a local PU (`identify`), decided (`authorizeOutgoing`), then carried to the
// service's address over TLS 1.3 with that PU's certificate. The server's chain must verify against the
// bundle and `verifyServer` must accept the server's certificate (it belongs to a PU the service selects).
//
// The local socket is accepted paused (`pauseOnConnect`), so nothing the application sends is read until
// the upstream is verified: a refused flow never had a byte leave the host.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import { CLIENT_TLS_RESUMPTION, CONNECT_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, SOCKET_HIGH_WATER_MARK, TLS_MIN_VERSION } from './limits';
import { CHAIN_VERIFY_ERROR_CODES } from '@palisade/pki';
import { SessionCache } from './session-cache';
import { buildClientContext } from './tls-contexts';
import { FlowTable } from './tunnel';
import {
  emptyStats,
  refusalOf,
  serialOf,
  uriSanOf,
  type ClientIdentity,
  type ContextMaterial,
  type FlowDecision,
  type FlowInfo,
  type ListenerStats,
  type RefusalReason,
} from './types';

export interface OutboundListenerOptions {
  /** Where local clients connect (a loopback port in explicit mode; the redirect target in transparent). */
  host: string;
  port: number;
  /** The service's address: usually the load balancer's IP and exposed port. */
  upstream: { host: string; port: number };
  /** Which local PU this connection belongs to; null refuses it. May be async (a /proc lookup). */
  identify: (socket: Socket) => ClientIdentity | null | Promise<ClientIdentity | null>;
  /** Synchronous outgoing decision for the PU. */
  authorizeOutgoing: (identity: ClientIdentity) => FlowDecision;
  /** Called with the verified server certificate; must confirm it belongs to a PU the service selects. */
  verifyServer: (certificate: PeerCertificate, identity: ClientIdentity) => FlowDecision;
  flows?: FlowTable;
  handshakeTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Local address for upstream sockets (e.g. to pick the source interface). The redirect rules exclude
   * the agent's own connections by group (see RedirectRules), so no source-port juggling is needed.
   */
  localAddress?: string;
}

/** Node's verification error codes for a server chain that does not lead to the bundle. */
const CHAIN_ERRORS = new Set(CHAIN_VERIFY_ERROR_CODES);

export class OutboundListener {
  readonly stats: ListenerStats = emptyStats();
  readonly flows: FlowTable;
  private readonly server: Server;
  private readonly contexts = new Map<string, SecureContext>();
  private readonly sessions = new SessionCache();
  /**
   * The verified server certificate each cached session was established with. A resumed TLS 1.3 session shows
   * the client no certificate (Node's getPeerCertificate() is empty), but resumption proves the server holds the
   * PSK of that earlier, fully verified session — so it is the same server, and its certificate is this one.
   */
  private readonly sessionCerts = new WeakMap<Buffer, PeerCertificate>();

  constructor(private readonly opts: OutboundListenerOptions) {
    this.flows = opts.flows ?? new FlowTable();
    this.server = createServer(
      { allowHalfOpen: true, pauseOnConnect: true, noDelay: true, highWaterMark: SOCKET_HIGH_WATER_MARK },
      (s) => void this.onConnection(s),
    );
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Sets (or replaces, on renewal or CA rotation) the client context of PU `puId`: built once here and
   * shared by all its upstream connections. Open flows are not touched; cached sessions of the PU are
   * dropped so the next connection presents the new certificate. Throws, changing nothing, on bad material.
   */
  setClientContext(puId: string, material: ContextMaterial): void {
    const ctx = buildClientContext(material);
    this.contexts.set(puId, ctx);
    this.sessions.dropPrefix(`${puId}|`);
  }

  /** Forgets a PU's context: its next connections are refused (`no_client_context`). */
  removeClientContext(puId: string): void {
    this.contexts.delete(puId);
    this.sessions.dropPrefix(`${puId}|`);
  }

  closeFlows(predicate: (info: FlowInfo) => boolean): number {
    return this.flows.closeFlows(
      (i) => i.direction === 'outbound' && i.destination.port === this.opts.upstream.port && i.destination.address === this.opts.upstream.host && predicate(i),
    );
  }

  async close(closeOpenFlows = true): Promise<void> {
    if (closeOpenFlows) {
      this.closeFlows(() => true);
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onConnection(local: Socket): Promise<void> {
    local.on('error', () => undefined); // reported through 'close'/refusal; never uncaught
    if (!this.flows.reserve()) {
      this.refuse(local, 'flow_cap', this.info(local, null, null));
      return;
    }
    let identity: ClientIdentity | null;
    try {
      identity = await this.opts.identify(local);
    } catch {
      identity = null;
    }
    if (!identity) {
      this.flows.release();
      this.refuse(local, 'unknown_client', this.info(local, null, null));
      return;
    }
    const ctx = this.contexts.get(identity.puId);
    if (!ctx) {
      this.flows.release();
      this.refuse(local, 'no_client_context', this.info(local, identity, null));
      return;
    }
    let decision: FlowDecision;
    try {
      decision = this.opts.authorizeOutgoing(identity);
    } catch (err) {
      decision = { allow: false, reason: `authorizeOutgoing threw: ${(err as Error).message}` };
    }
    const info = this.info(local, identity, decision);
    if (!decision.allow) {
      this.flows.release();
      this.refuse(local, refusalOf(decision), info);
      return;
    }
    if (local.destroyed) {
      this.flows.release();
      this.refuse(local, 'client_gone', info);
      return;
    }
    this.dial(local, identity, ctx, info);
  }

  private dial(local: Socket, identity: ClientIdentity, ctx: SecureContext, info: FlowInfo): void {
    const { host, port } = this.opts.upstream;
    const key = `${identity.puId}|${host}:${port}`;
    const offered = CLIENT_TLS_RESUMPTION ? this.sessions.get(key) : undefined;
    let peerCert: PeerCertificate | undefined;
    const up: TLSSocket = tlsConnect({
      host,
      port,
      localAddress: this.opts.localAddress,
      secureContext: ctx,
      minVersion: TLS_MIN_VERSION,
      session: offered,
      // The server is named by its certificate's SPIFFE URI and checked by verifyServer, not by the
      // load balancer's host name (which the certificate does not and should not carry).
      checkServerIdentity: () => undefined,
      allowHalfOpen: true,
      noDelay: true,
      highWaterMark: SOCKET_HIGH_WATER_MARK,
    } as ConnectionOptions & { localAddress?: string; noDelay?: boolean });
    let settled = false;
    const deadline = (this.opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS) + (this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    const timer = setTimeout(() => fail('upstream_unreachable'), deadline);
    const fail = (reason: RefusalReason): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      up.destroy();
      this.flows.release();
      this.refuse(local, reason, info);
    };
    let tcpConnected = false;
    up.once('connect', () => (tcpConnected = true));
    let early: Buffer | null = null;
    up.on('session', (session: Buffer) => {
      // A ticket is kept only with the verified certificate of its server (one that arrives first waits for it).
      if (peerCert) {
        this.sessions.set(key, session);
        this.sessionCerts.set(session, peerCert);
      } else {
        early = session;
      }
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      fail(CHAIN_ERRORS.has(code) ? 'server_certificate_untrusted' : tcpConnected ? 'tls_handshake_failed' : 'upstream_unreachable');
    });
    const onLocalClose = (): void => fail('client_gone');
    local.once('close', onLocalClose);
    up.once('secureConnect', () => {
      if (settled) {
        return;
      }
      const resumed = up.isSessionReused();
      const cert = resumed && offered ? this.sessionCerts.get(offered) : up.getPeerCertificate(true);
      if (!cert || !cert.raw) {
        fail('server_certificate_untrusted');
        return;
      }
      let verdict: FlowDecision;
      try {
        verdict = this.opts.verifyServer(cert, identity);
      } catch (err) {
        verdict = { allow: false, reason: `verifyServer threw: ${(err as Error).message}` };
      }
      info.destination.identity = uriSanOf(cert);
      info.destination.tags = verdict.tags;
      info.peerSerial = serialOf(cert);
      if (!up.authorized || !verdict.allow) {
        fail(up.authorized ? 'server_identity_rejected' : 'server_certificate_untrusted');
        return;
      }
      peerCert = cert;
      if (early) {
        this.sessions.set(key, early);
        this.sessionCerts.set(early, cert);
      }
      settled = true;
      clearTimeout(timer);
      local.off('close', onLocalClose);
      this.stats.accepted++;
      this.stats.active++;
      const flow = this.flows.start(info, local, up);
      flow.client.once('close', () => this.stats.active--);
    });
  }

  private info(local: Socket, identity: ClientIdentity | null, d: FlowDecision | null): FlowInfo {
    return {
      id: this.flows.allocateId(),
      direction: 'outbound',
      port: this.opts.upstream.port,
      source: { address: local.remoteAddress ?? '', port: local.remotePort ?? 0, identity: identity?.puId ?? null, tags: identity?.tags },
      destination: { address: this.opts.upstream.host, port: this.opts.upstream.port, identity: null },
      peerSerial: null,
      policyId: d?.policyId ?? null,
      policyName: d?.policyName ?? null,
      reason: d?.reason ?? '',
      startedAt: Date.now(),
    };
  }

  private refuse(local: Socket, reason: RefusalReason, info: FlowInfo): void {
    this.stats.refused[reason]++;
    local.destroy();
    this.flows.report({
      ...info,
      reason: info.reason || reason,
      verdict: 'Reject',
      refusal: reason,
      bytesUp: 0,
      bytesDown: 0,
      durationMs: Date.now() - info.startedAt,
      closeCause: null,
    });
  }
}
