import type { PeerCertificate } from 'node:tls';
import { decide, objectTagsForService, serviceSelects, type RuleSet, type ServiceDef } from '@palisade/policy';
import { readCertificate, type Identity } from '@palisade/pki';
import { normalizeSerial } from '@palisade/protocol';
import type { FlowDecision } from './datapath';

/** What the agent knows about a peer from its certificate (which the CA signed, so the tags cannot be forged). */
export interface PeerIdentity {
  identity: Identity | null;
  tags: string[];
  serial: string;
}

const peerCache = new Map<string, PeerIdentity>();
const PEER_CACHE_MAX = 4096;

/**
 * Reads identity and tags from a verified peer certificate, cached by its SHA-256 fingerprint (Node computes
 * it natively) so the ASN.1 parse happens once per certificate, not once per connection.
 */
export function peerIdentity(cert: PeerCertificate): PeerIdentity | null {
  const key = cert.fingerprint256;
  const hit = peerCache.get(key);
  if (hit) {
    return hit;
  }
  if (!cert.raw) {
    return null;
  }
  let info;
  try {
    info = readCertificate(cert.raw);
  } catch {
    return null;
  }
  const v: PeerIdentity = { identity: info.identity, tags: info.tags, serial: normalizeSerial(info.serial) };
  if (peerCache.size >= PEER_CACHE_MAX) {
    peerCache.delete(peerCache.keys().next().value as string);
  }
  peerCache.set(key, v);
  return v;
}

/** The serials a peer certificate and its issuers carry (any of them on the deny list refuses the peer). */
export function chainSerials(cert: PeerCertificate): string[] {
  const out: string[] = [];
  let c: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = cert;
  const seen = new Set<string>();
  while (c && c.serialNumber && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(normalizeSerial(c.serialNumber));
    c = c.issuerCertificate;
  }
  return out;
}

const REJECT_NO_RULESET: FlowDecision = { allow: false, reason: 'no_ruleset', policyId: null, policyName: null };

/**
 * The inbound security decision, in one place: a peer is allowed to reach local processing unit `puId` on `port`
 * only if (1) a rule set is in force (fail closed before the first one), (2) no certificate of its chain is on the
 * deny list, (3) its certificate carries a Palisade identity, and (4) the incoming rules allow its tags.
 */
export function isAllowedInbound(
  rs: RuleSet | null,
  deny: ReadonlySet<string>,
  puId: string | null,
  cert: PeerCertificate,
  port: number,
  now: Date,
): FlowDecision {
  if (!rs) {
    return REJECT_NO_RULESET;
  }
  if (chainSerials(cert).some((s) => deny.has(s))) {
    return { allow: false, reason: 'denylisted', policyId: null, policyName: null };
  }
  const peer = peerIdentity(cert);
  if (!peer || !peer.identity) {
    return { allow: false, reason: 'certificate_untrusted', policyId: null, policyName: null };
  }
  if (!puId) {
    return { allow: false, reason: 'unknown-pu', policyId: null, policyName: null, tags: peer.tags };
  }
  const d = decide(rs, puId, 'incoming', peer.tags, `tcp/${port}`, now);
  return { allow: d.action === 'Allow', reason: d.reason, policyId: d.policyId, policyName: d.policyName, tags: peer.tags };
}

/**
 * The outgoing decision before the agent dials: the client PU's outgoing rules for the service (its
 * associatedTags and the tags every PU it selects must carry), on the service's port.
 */
export function isAllowedOutbound(rs: RuleSet | null, puId: string, service: ServiceDef, now: Date): FlowDecision {
  if (!rs) {
    return REJECT_NO_RULESET;
  }
  if (!rs.services.some((s) => s.id === service.id)) {
    return { allow: false, reason: 'unknown_service', policyId: null, policyName: null };
  }
  const d = decide(rs, puId, 'outgoing', objectTagsForService(rs, service.id), `tcp/${service.port}`, now);
  return { allow: d.action === 'Allow', reason: d.reason, policyId: d.policyId, policyName: d.policyName };
}

/**
 * After the handshake through a service: the server's certificate must belong to a processing unit the service
 * selects (so a load balancer, or anything behind it, cannot hand the client to another server) and not be deny
 * listed.
 */
export function isExpectedServer(deny: ReadonlySet<string>, service: ServiceDef, cert: PeerCertificate): FlowDecision {
  if (chainSerials(cert).some((s) => deny.has(s))) {
    return { allow: false, reason: 'denylisted', policyId: null, policyName: null };
  }
  const peer = peerIdentity(cert);
  if (!peer || !peer.identity || peer.identity.kind !== 'pu') {
    return { allow: false, reason: 'server_identity_rejected', policyId: null, policyName: null };
  }
  return serviceSelects(service, peer.tags)
    ? { allow: true, reason: 'service_selects_server', policyId: null, policyName: null, tags: peer.tags }
    : { allow: false, reason: 'server_identity_rejected', policyId: null, policyName: null, tags: peer.tags };
}
