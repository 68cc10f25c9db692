// InboundListener: the server side of the datapath. A TLS 1.3 server that requires a client
// certificate chained to the trust bundle, asks an injected `authorize` about each verified peer, and
// forwards allowed flows to the application on loopback.
//
// Why `rejectUnauthorized: false` with our own check: with `true`, Node destroys a socket whose client
// chain fails verification *before* any event reaches us, so the refusal could not be counted or
// reported. We request the certificate, let the handshake finish, and apply one named predicate
// (`peerVerdict`) — the same decision Node would make, plus a reason.
import { connect as netConnect, type AddressInfo, type NetConnectOpts, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createServer, type PeerCertificate, type Server, type TLSSocket } from 'node:tls';
import {
  CONNECT_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  MAX_PENDING_HANDSHAKES,
  SOCKET_HIGH_WATER_MARK,
  TICKET_KEY_ROTATION_MS,
  TLS_SESSION_TIMEOUT_S,
} from './limits';
import { contextOptions } from './tls-contexts';
import { FlowTable } from './tunnel';
import {
  emptyStats,
  refusalOf,
  serialOf,
  uriSanOf,
  type ContextMaterial,
  type FlowDecision,
  type FlowInfo,
  type InboundPeer,
  type ListenerStats,
  type RefusalReason,
} from './types';

export interface InboundListenerOptions {
  /** Where to listen (the protected port in explicit mode, a private port in transparent mode). */
  host: string;
  port: number;
  /** The application: always a loopback address in Palisade. */
  target: { host: string; port: number };
  /** The port a decision is about (the protected port); defaults to `target.port`. */
  protectedPort?: number;
  material: ContextMaterial;
  /** Synchronous: decisions are cheap and must not add a round trip. */
  authorize: (peer: InboundPeer, localPort: number) => FlowDecision;
  /** Shared with other listeners to cap the agent as a whole; a private table otherwise. */
  flows?: FlowTable;
  handshakeTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxPendingHandshakes?: number;
  ticketKeyRotationMs?: number;
}

/**
 * The meaning of a peer's certificate for the datapath: only a chain that verified against the bundle
 * is a peer; anything else is refused with the reason. A resumed session carries the verification
 * result of its full handshake (ticket keys rotate, and with every context update, to bound that).
 */
export function peerVerdict(socket: TLSSocket, cert: PeerCertificate | null): RefusalReason | null {
  if (!cert || !cert.raw) {
    return 'no_client_certificate';
  }
  return socket.authorized ? null : 'certificate_untrusted';
}

export class InboundListener {
  readonly stats: ListenerStats = emptyStats();
  readonly flows: FlowTable;
  private readonly server: Server;
  private readonly protectedPort: number;
  /** Raw sockets whose TLS handshake is in progress (Node links a server TLSSocket to its raw socket as `_parent`). */
  private readonly handshaking = new Set<Socket>();
  private ticketTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: InboundListenerOptions) {
    this.flows = opts.flows ?? new FlowTable();
    this.protectedPort = opts.protectedPort ?? opts.target.port;
    this.server = createServer({
      ...contextOptions(opts.material),
      requestCert: true,
      rejectUnauthorized: false,
      allowHalfOpen: true,
      handshakeTimeout: opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
      sessionTimeout: TLS_SESSION_TIMEOUT_S,
      highWaterMark: SOCKET_HIGH_WATER_MARK,
    });
    this.server.on('connection', (raw: Socket) => this.onRawConnection(raw));
    this.server.on('secureConnection', (s: TLSSocket) => this.onSecure(s));
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, s: TLSSocket) => this.onTlsError(err, s));
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const every = this.opts.ticketKeyRotationMs ?? TICKET_KEY_ROTATION_MS;
    this.ticketTimer = setInterval(() => this.rotateTicketKeys(), every);
    this.ticketTimer.unref();
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Replaces the certificate, key and trust bundle for new connections (renewal, CA rotation). Open
   * flows keep the context they were established with and are not touched; outstanding session tickets
   * become invalid, so a resumed session never outlives a trust bundle. Throws (and changes nothing)
   * on material that does not form a valid context.
   */
  updateContext(material: ContextMaterial): void {
    this.server.setSecureContext({ ...contextOptions(material), sessionTimeout: TLS_SESSION_TIMEOUT_S });
  }

  /** New random session-ticket key: tickets issued before stop resuming. */
  rotateTicketKeys(): void {
    this.server.setTicketKeys(randomBytes(48));
  }

  /** Closes open flows of this listener that `predicate` selects; returns how many. */
  closeFlows(predicate: (info: FlowInfo) => boolean): number {
    return this.flows.closeFlows((i) => i.direction === 'inbound' && i.port === this.protectedPort && predicate(i));
  }

  /** Stops accepting; with `closeOpenFlows`, also closes this listener's flows. */
  async close(closeOpenFlows = true): Promise<void> {
    if (this.ticketTimer) {
      clearInterval(this.ticketTimer);
    }
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const raw of this.handshaking) {
      raw.destroy();
    }
    if (closeOpenFlows) {
      this.closeFlows(() => true);
    }
    await closing;
  }

  private onRawConnection(raw: Socket): void {
    const max = this.opts.maxPendingHandshakes ?? MAX_PENDING_HANDSHAKES;
    if (this.handshaking.size >= max) {
      this.refuse(raw, 'handshake_cap');
      return;
    }
    this.handshaking.add(raw);
    // Nagle off from the first byte, not only once the flow starts: the server's handshake flight and its
    // session tickets must not wait for a delayed ACK (a new connection's set-up time, issue 7).
    raw.setNoDelay(true);
    // The raw socket's close covers every failure path; success and TLS errors end it earlier.
    raw.once('close', () => this.handshaking.delete(raw));
  }

  private onTlsError(err: NodeJS.ErrnoException, s: TLSSocket): void {
    this.handshakeDone(s);
    const reason: RefusalReason =
      err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT'
        ? 'handshake_timeout'
        : err.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'
          ? 'no_client_certificate'
          : 'tls_handshake_failed';
    this.refuse(s, reason);
  }

  private onSecure(s: TLSSocket): void {
    this.handshakeDone(s);
    const cert = s.getPeerCertificate(false) as PeerCertificate | null;
    const verdict = peerVerdict(s, cert && Object.keys(cert).length > 0 ? cert : null);
    if (verdict || !cert) {
      this.refuse(s, verdict ?? 'no_client_certificate');
      return;
    }
    const peer: InboundPeer = {
      certDer: cert.raw,
      certificate: cert,
      remoteAddress: s.remoteAddress ?? '',
      remotePort: s.remotePort ?? 0,
    };
    let decision: FlowDecision;
    try {
      decision = this.opts.authorize(peer, this.protectedPort);
    } catch (err) {
      // A broken decision function fails closed.
      decision = { allow: false, reason: `authorize threw: ${(err as Error).message}` };
    }
    const info = this.flowInfo(s, cert, decision);
    if (!decision.allow) {
      this.refuse(s, refusalOf(decision), info);
      return;
    }
    if (!this.flows.reserve()) {
      this.refuse(s, 'flow_cap', info);
      return;
    }
    this.dialTarget(s, info);
  }

  private dialTarget(s: TLSSocket, info: FlowInfo): void {
    // net.Socket passes stream options (highWaterMark) through to Duplex; @types/node does not list it.
    const app = netConnect({
      host: this.opts.target.host,
      port: this.opts.target.port,
      allowHalfOpen: true,
      noDelay: true,
      highWaterMark: SOCKET_HIGH_WATER_MARK,
    } as NetConnectOpts);
    const timer = setTimeout(() => app.destroy(new Error('connect timeout')), this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    const fail = (): void => {
      clearTimeout(timer);
      this.flows.release();
      app.destroy();
      this.refuse(s, 'target_unreachable', info);
    };
    const clientGone = (): void => {
      clearTimeout(timer);
      this.flows.release();
      app.destroy();
      this.refuse(s, 'client_gone', info);
    };
    app.once('error', fail);
    s.once('close', clientGone);
    app.once('connect', () => {
      clearTimeout(timer);
      app.off('error', fail);
      s.off('close', clientGone);
      this.stats.accepted++;
      this.stats.active++;
      const flow = this.flows.start(info, s, app);
      flow.server.once('close', () => this.stats.active--);
    });
  }

  private handshakeDone(s: TLSSocket): void {
    const raw = (s as unknown as { _parent?: Socket })._parent;
    if (raw) {
      this.handshaking.delete(raw);
    }
  }

  private flowInfo(s: TLSSocket, cert: PeerCertificate | null, d: FlowDecision | null): FlowInfo {
    return {
      id: this.flows.allocateId(),
      direction: 'inbound',
      port: this.protectedPort,
      source: {
        address: s.remoteAddress ?? '',
        port: s.remotePort ?? 0,
        identity: cert ? uriSanOf(cert) : null,
        tags: d?.tags,
      },
      destination: { address: this.opts.target.host, port: this.opts.target.port, identity: null },
      peerSerial: cert ? serialOf(cert) : null,
      policyId: d?.policyId ?? null,
      policyName: d?.policyName ?? null,
      reason: d?.reason ?? '',
      startedAt: Date.now(),
    };
  }

  private refuse(s: Socket, reason: RefusalReason, info?: FlowInfo): void {
    this.stats.refused[reason]++;
    s.destroy();
    const base = info ?? this.flowInfoOfRaw(s);
    this.flows.report({
      ...base,
      reason: base.reason || reason,
      verdict: 'Reject',
      refusal: reason,
      bytesUp: 0,
      bytesDown: 0,
      durationMs: Date.now() - base.startedAt,
      closeCause: null,
    });
  }

  private flowInfoOfRaw(s: Socket): FlowInfo {
    return {
      id: this.flows.allocateId(),
      direction: 'inbound',
      port: this.protectedPort,
      source: { address: s.remoteAddress ?? '', port: s.remotePort ?? 0, identity: null },
      destination: { address: this.opts.target.host, port: this.opts.target.port, identity: null },
      peerSerial: null,
      policyId: null,
      policyName: null,
      reason: '',
      startedAt: Date.now(),
    };
  }
}
