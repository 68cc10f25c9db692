// Reading certificates back: what a peer learns from a certificate the CA signed — its identity (from the
// one URI SAN) and its tags (from the tags extension). Synchronous, because an agent calls it per connection.
import { createHash } from 'node:crypto';
import { PkiError } from './errors';
import { normalizeSerial, pemBlocks, x509 } from './crypto';
import { parseSpiffeId, type Identity } from './identity';
import { TAGS_OID, decodeTags } from './tags-extension';

export interface CertificateInfo {
  /** From the single spiffe:// URI SAN; null when the certificate has no URI SAN (CA certificates). */
  identity: Identity | null;
  /** From the tags extension; [] when the certificate has none. */
  tags: string[];
  serial: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
  issuer: string;
  subject: string;
}

/** DER of the first PEM CERTIFICATE in `cert`, or `cert` itself when it is DER; throws certificate_malformed. */
export function certificateDer(cert: string | Uint8Array, field = 'certPem'): Buffer {
  if (typeof cert === 'string') {
    const blocks = pemBlocks(cert, 'CERTIFICATE');
    if (blocks.length === 0) {
      throw new PkiError('certificate_malformed', `${field} holds no PEM CERTIFICATE`, field);
    }
    return blocks[0];
  }
  if (cert instanceof Uint8Array) {
    return Buffer.from(cert);
  }
  throw new PkiError('certificate_malformed', `${field} must be a PEM string or DER bytes`, field);
}

export function parseCertificate(cert: string | Uint8Array, field = 'certPem'): x509.X509Certificate {
  const der = certificateDer(cert, field);
  try {
    return new x509.X509Certificate(der);
  } catch {
    throw new PkiError('certificate_malformed', `${field} is not a DER X.509 certificate`, field);
  }
}

/**
 * The certificate's SHA-256 fingerprint: SHA-256 over the DER encoding, as 64 lower-case hex digits without
 * colons (`openssl x509 -noout -fingerprint -sha256` prints the same digits upper-case with colons).
 * Accepts PEM (the first certificate) or DER. Throws PkiError('certificate_malformed').
 */
export function fingerprint(certPem: string | Uint8Array): string {
  return createHash('sha256').update(certificateDer(certPem)).digest('hex');
}

/** Identity from a parsed certificate's SAN: null without URI SANs; identity_malformed for any other shape. */
export function identityOf(cert: x509.X509Certificate, field = 'certPem'): Identity | null {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san ? san.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
  if (uris.length === 0) {
    return null;
  }
  if (uris.length > 1) {
    throw new PkiError(
      'identity_malformed',
      `${field} has ${uris.length} URI SANs; exactly one is allowed`,
      field,
    );
  }
  return parseSpiffeId(uris[0], field);
}

/** Tags from a parsed certificate: [] without the extension; extension_malformed if it is not our format. */
export function tagsOf(cert: x509.X509Certificate, field = 'certPem'): string[] {
  const exts = cert.extensions.filter((e) => e.type === TAGS_OID);
  if (exts.length === 0) {
    return [];
  }
  if (exts.length > 1) {
    throw new PkiError(
      'extension_malformed',
      `${field} carries the tags extension (${TAGS_OID}) twice`,
      field,
    );
  }
  if (exts[0].critical) {
    // Marked critical, every verifier that does not know our OID would have to reject the certificate.
    throw new PkiError(
      'extension_malformed',
      `${field}: the tags extension (${TAGS_OID}) must not be critical`,
      field,
    );
  }
  return decodeTags(new Uint8Array(exts[0].value), field);
}

/**
 * Reads a certificate (PEM — the first block — or DER) without verifying it: identity from the single URI
 * SAN (null when there is none), tags from the tags extension (sorted; [] when absent), serial (lower-case
 * hex), validity, SHA-256 fingerprint (see fingerprint) and issuer/subject names (RFC 4514 strings). Throws
 * PkiError('certificate_malformed' | 'identity_malformed' | 'extension_malformed'). Only verifyChain says
 * whether to believe what it returns.
 */
export function readCertificate(certPem: string | Buffer): CertificateInfo {
  const der = certificateDer(certPem);
  const cert = parseCertificate(der);
  return {
    identity: identityOf(cert),
    tags: tagsOf(cert),
    serial: normalizeSerial(cert.serialNumber),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    fingerprint256: createHash('sha256').update(der).digest('hex'),
    issuer: cert.issuer,
    subject: cert.subject,
  };
}
