// The datapath's public types: what the injected callbacks receive and return, and what a flow record
// holds. Kept free of libs/policy and the control plane so the agent can wire any decision function in.
import type { Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';

/** What an injected authorize/verify callback answers. `reason` is free text for the flow report. */
export interface FlowDecision {
  allow: boolean;
  policyId?: string | null;
  policyName?: string | null;
  reason: string;
  /** Tags of the peer as evaluated (kept on the open flow so a new rule set can re-decide it). */
  tags?: string[];
}

/** The verified client of an inbound flow, handed to `authorize`. */
export interface InboundPeer {
  certDer: Buffer;
  certificate: PeerCertificate;
  remoteAddress: string;
  remotePort: number;
}

/** The local processing unit an outbound connection belongs to, as answered by `identify`. */
export interface ClientIdentity {
  /** Selects the client SecureContext set with `OutboundListener.setClientContext(puId, …)`. */
  puId: string;
  name?: string;
  tags?: string[];
}

/** Why a connection was refused or closed; the keys of the listeners' `refused` counters. */
export type RefusalReason =
  | 'tls_handshake_failed'
  | 'handshake_timeout'
  | 'no_client_certificate'
  | 'certificate_untrusted'
  | 'policy_reject'
  | 'denylisted'
  | 'flow_cap'
  | 'handshake_cap'
  | 'unknown_client'
  | 'no_client_context'
  | 'upstream_unreachable'
  | 'server_certificate_untrusted'
  | 'server_identity_rejected'
  | 'target_unreachable'
  | 'client_gone';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'tls_handshake_failed',
  'handshake_timeout',
  'no_client_certificate',
  'certificate_untrusted',
  'policy_reject',
  'denylisted',
  'flow_cap',
  'handshake_cap',
  'unknown_client',
  'no_client_context',
  'upstream_unreachable',
  'server_certificate_untrusted',
  'server_identity_rejected',
  'target_unreachable',
  'client_gone',
];

/** How an accepted flow ended. */
export type CloseCause = 'completed' | 'idle_timeout' | 'closed_by_agent' | 'error';

export interface FlowEndpoint {
  address: string;
  port: number;
  /** SPIFFE URI of a certificate peer, or the local PU id. */
  identity: string | null;
  tags?: string[];
}

/** What the agent knows about an open flow; `closeFlows(predicate)` is asked about each. */
export interface FlowInfo {
  id: number;
  direction: 'inbound' | 'outbound';
  /** Inbound: the listener's port; outbound: the service's exposed port (the upstream's). */
  port: number;
  source: FlowEndpoint;
  destination: FlowEndpoint;
  /** Serial of the remote peer's certificate, lower-case hex (matches the rule set's denyList). */
  peerSerial: string | null;
  policyId: string | null;
  policyName: string | null;
  reason: string;
  startedAt: number;
}

/** Handed to `onFlowEnd` for every accepted flow at close, and for every refused connection. */
export interface FlowRecord extends FlowInfo {
  verdict: 'Accept' | 'Reject';
  refusal: RefusalReason | null;
  /** Client → server bytes (plaintext), and server → client. */
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  closeCause: CloseCause | null;
}

export type FlowEndCallback = (record: FlowRecord) => void;

/** Per-listener counters, cheap to read at any time (metrics, `status`). */
export interface ListenerStats {
  accepted: number;
  active: number;
  refused: Record<RefusalReason, number>;
}

export function emptyStats(): ListenerStats {
  const refused = {} as Record<RefusalReason, number>;
  for (const r of REFUSAL_REASONS) {
    refused[r] = 0;
  }
  return { accepted: 0, active: 0, refused };
}

/** Key material for a SecureContext, PEM strings (PKCS#8 key, leaf + chain, trust bundle). */
export interface ContextMaterial {
  key: string | Buffer;
  cert: string | Buffer;
  ca: string | Buffer | (string | Buffer)[];
}

/** A refusal reason named by a decision wins (e.g. `denylisted`); anything else counts as a policy reject. */
export function refusalOf(decision: FlowDecision): RefusalReason {
  return (REFUSAL_REASONS as readonly string[]).includes(decision.reason)
    ? (decision.reason as RefusalReason)
    : 'policy_reject';
}

/** The first URI SAN of a certificate (`URI:spiffe://…` in Node's `subjectaltname`), or null. */
export function uriSanOf(cert: PeerCertificate): string | null {
  const san = cert.subjectaltname;
  if (!san) {
    return null;
  }
  for (const part of san.split(', ')) {
    if (part.startsWith('URI:')) {
      return part.slice(4);
    }
  }
  return null;
}

/** Lower-case hex serial as Node prints it (no separators), the form the deny list uses. */
export function serialOf(cert: PeerCertificate): string | null {
  return cert.serialNumber ? cert.serialNumber.toLowerCase() : null;
}

export type { Socket };
