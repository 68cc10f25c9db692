// Leaf (end-entity) certificates: the short-lived identities of agents, processing units and servers.
// Profile follows the SPIFFE X509-SVID spec (exactly one URI SAN, CA:false, digitalSignature) plus the tags
// extension; see README.md for the field-by-field table. Every input is validated before anything is signed,
// so a failure never leaves a half-issued certificate behind.
import { PkiError } from './errors';
import { SIGNING_ALG, newSerial, normalizeSerial, x509 } from './crypto';
import { CLOCK_SKEW_SECONDS, loadCa, resolveNow, wholeSeconds, type CaMaterial } from './ca';
import { verifiedCsr } from './csr';
import { assertIdentity, spiffeId, type Identity } from './identity';
import { TAGS_OID, encodeTags, normalizeCertTags } from './tags-extension';

/** Longest leaf lifetime unless the caller passes its own maxTtlSeconds: 24 h, the agent certificate's TTL. */
export const LEAF_MAX_TTL_SECONDS_DEFAULT = 86_400;

export interface IssueLeafOptions {
  issuer: CaMaterial;
  csrPem: string;
  identity: Identity;
  tags: string[];
  ttlSeconds: number;
  maxTtlSeconds?: number;
  dnsNames?: string[];
  ipAddresses?: string[];
  now?: Date;
}

export interface IssuedLeaf {
  certPem: string;
  /** The leaf followed by the issuing CA, as node:tls wants for `cert`. */
  chainPem: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isDnsName(s: string): boolean {
  return s.length <= 253 && s.split('.').every((l) => DNS_LABEL.test(l));
}

function isIpAddress(s: string): boolean {
  if (IPV4.test(s)) {
    return true;
  }
  // IPv6: WHATWG URL parsing is a full RFC 4291 parser available without node:net (banned in libs).
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) {
    return false;
  }
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

function stringList(v: unknown, field: string, valid: (s: string) => boolean, what: string): string[] {
  if (v === undefined) {
    return [];
  }
  if (!Array.isArray(v)) {
    throw new PkiError('san_malformed', `${field} must be an array of ${what}`, field);
  }
  v.forEach((s, i) => {
    if (typeof s !== 'string' || !valid(s.toLowerCase())) {
      throw new PkiError('san_malformed', `${field}[${i}] is not ${what}`, `${field}[${i}]`);
    }
  });
  return [...new Set((v as string[]).map((s) => s.toLowerCase()))].sort();
}

function positiveInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new PkiError('ttl_invalid', `${field} must be a positive whole number of seconds`, field);
  }
  return v;
}

/**
 * Issues a leaf certificate for the key in `csrPem`, signed by `issuer` (normally the issuing CA).
 *
 * Checks, before signing anything: identity (`identity_malformed`/`trust_domain_malformed`), that the identity's
 * trust domain is the issuer's (`trust_domain_mismatch`), tags (`tags_malformed`), ttlSeconds a positive
 * integer (`ttl_invalid`) not above maxTtlSeconds (default 86400) nor past the issuer's notAfter
 * (`ttl_too_long`), dnsNames/ipAddresses (`san_malformed`), the issuer (`issuer_invalid`), and the CSR
 * (`csr_malformed`, `key_type_unsupported`, `csr_signature_invalid`). The CSR's subject and requested extensions
 * are ignored. The certificate: subject `CN=<id>, OU=<kind>, O=<trustDomain>`; exactly one URI SAN
 * spiffeId(identity) plus the DNS/IP SANs; keyUsage digitalSignature (critical); extKeyUsage serverAuth +
 * clientAuth; basicConstraints CA:false (critical); SKID/AKID; the tags extension TAGS_OID (non-critical,
 * sorted unique tags); notBefore now − 30 s; notAfter now + ttlSeconds; random 16-byte serial.
 */
export async function issueLeaf(o: IssueLeafOptions): Promise<IssuedLeaf> {
  const now = resolveNow(o?.now);
  assertIdentity(o.identity);
  const uri = spiffeId(o.identity);
  const tags = normalizeCertTags(o.tags);
  const ttl = positiveInt(o.ttlSeconds, 'ttlSeconds');
  const maxTtl = o.maxTtlSeconds === undefined ? LEAF_MAX_TTL_SECONDS_DEFAULT : positiveInt(o.maxTtlSeconds, 'maxTtlSeconds');
  if (ttl > maxTtl) {
    throw new PkiError('ttl_too_long', `ttlSeconds ${ttl} exceeds the maximum of ${maxTtl}`, 'ttlSeconds');
  }
  const dnsNames = stringList(o.dnsNames, 'dnsNames', isDnsName, 'a DNS name');
  const ipAddresses = stringList(o.ipAddresses, 'ipAddresses', isIpAddress, 'an IP address');

  const issuer = await loadCa(o.issuer, now, 'issuer');
  if (issuer.trustDomain !== null && issuer.trustDomain !== o.identity.trustDomain) {
    throw new PkiError(
      'trust_domain_mismatch',
      `identity.trustDomain ${o.identity.trustDomain} is not the issuer's trust domain ${issuer.trustDomain}`,
      'identity.trustDomain',
    );
  }
  const notBefore = wholeSeconds(now.getTime() - CLOCK_SKEW_SECONDS * 1000);
  const notAfter = wholeSeconds(now.getTime() + ttl * 1000);
  if (notAfter > issuer.cert.notAfter) {
    throw new PkiError('ttl_too_long', `ttlSeconds would outlive the issuer (notAfter ${issuer.cert.notAfter.toISOString()})`, 'ttlSeconds');
  }
  const { csr } = await verifiedCsr(o.csrPem);

  const serial = newSerial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${o.identity.id}, OU=${o.identity.kind}, O=${o.identity.trustDomain}`,
    issuer: issuer.cert.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING_ALG,
    publicKey: csr.publicKey,
    signingKey: issuer.signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension(
        [
          { type: 'url', value: uri },
          ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
          ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
        ],
        false,
      ),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      new x509.AuthorityKeyIdentifierExtension(issuer.keyId),
      new x509.Extension(TAGS_OID, false, encodeTags(tags)),
    ],
  });
  const certPem = `${cert.toString('pem')}\n`;
  return {
    certPem,
    chainPem: `${certPem}${issuer.cert.toString('pem')}\n`,
    serial: normalizeSerial(cert.serialNumber),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}
