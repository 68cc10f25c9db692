import { ProtocolError } from './schema';

/**
 * An enrollment token as the user copies it: `palisade-enroll.v1.<base64url(JSON)>`. The JSON carries the control
 * plane's URL, the SHA-256 fingerprint of its root CA (lower-case hex) and the secret. The agent pins the
 * fingerprint, so a token cannot be used to point it at an impostor control plane; the control plane stores only
 * a hash of the secret.
 */
export interface EnrollmentToken {
  url: string;
  caFingerprint: string;
  secret: string;
  /** When the token stops working (ISO 8601); not secret, lets the agent say "expired" without asking. */
  expiresAt?: string;
}

const PREFIX = 'palisade-enroll.v1.';

/** Encodes an enrollment token into its one-line copyable form. */
export function encodeEnrollmentToken(t: EnrollmentToken): string {
  const body = Buffer.from(JSON.stringify({ u: t.url, f: t.caFingerprint, s: t.secret, e: t.expiresAt }), 'utf8');
  return PREFIX + body.toString('base64url');
}

/** Decodes a copyable enrollment token; throws ProtocolError('token_malformed') for anything else. */
export function decodeEnrollmentToken(s: string): EnrollmentToken {
  const bad = (why: string): never => {
    throw new ProtocolError('token_malformed', `enrollment token is malformed: ${why}`, 'token');
  };
  if (typeof s !== 'string' || !s.startsWith(PREFIX) || s.length > 4096) {
    return bad(`it must start with ${PREFIX}`);
  }
  let v: { u?: unknown; f?: unknown; s?: unknown; e?: unknown };
  try {
    v = JSON.parse(Buffer.from(s.slice(PREFIX.length).trim(), 'base64url').toString('utf8'));
  } catch {
    return bad('its body is not base64url JSON');
  }
  if (typeof v.u !== 'string' || !/^https:\/\/[^\s]+$/.test(v.u)) {
    return bad('no https control-plane URL');
  }
  if (typeof v.f !== 'string' || !/^[0-9a-f]{64}$/.test(v.f)) {
    return bad('no CA fingerprint');
  }
  if (typeof v.s !== 'string' || !/^[A-Za-z0-9_-]{32,128}$/.test(v.s)) {
    return bad('no secret');
  }
  if (v.e !== undefined && (typeof v.e !== 'string' || Number.isNaN(Date.parse(v.e)))) {
    return bad('its expiry is not a date');
  }
  return { url: v.u, caFingerprint: v.f, secret: v.s, ...(typeof v.e === 'string' ? { expiresAt: v.e } : {}) };
}
