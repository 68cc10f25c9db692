// Leaf (end-entity) certificates: the short-lived identities of agents, processing units and servers.
// Profile follows the SPIFFE X509-SVID spec (exactly one URI SAN, CA:false, digitalSignature) plus the tags
// extension; see README.md for the field-by-field table. Every input is validated before anything is signed,
// so a failure never leaves a half-issued certificate behind.
import { PkiError } from './errors';
import { createHash, sign as nodeSign } from 'node:crypto';
import { newSerial, toPem } from './crypto';
import {
  bitString,
  extension,
  octetString,
  oid,
  readTlv,
  children,
  seq,
  set,
  time,
  tlv,
  uintFromHex,
  utf8String,
} from './der';
import { CLOCK_SKEW_SECONDS, loadCa, resolveNow, wholeSeconds, type CaMaterial } from './ca';
import { isVerifiedCsr, verifiedCsr, type VerifiedCsr } from './csr';
import { assertIdentity, spiffeId, type Identity } from './identity';
import { TAGS_OID, encodeTags, normalizeCertTags } from './tags-extension';

/** Longest leaf lifetime unless the caller passes its own maxTtlSeconds: 24 h, the agent certificate's TTL. */
export const LEAF_MAX_TTL_SECONDS_DEFAULT = 86_400;

export interface IssueLeafOptions {
  issuer: CaMaterial;
  /** The request as PEM (verified here), or `csr`: one verifyCsr already checked. Exactly one of the two. */
  csrPem?: string;
  csr?: VerifiedCsr;
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

// The constant parts of the leaf template (README.md, "Certificate profile").
const VERSION_3 = Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]);
const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const OID_CN = '2.5.4.3';
const OID_OU = '2.5.4.11';
const OID_O = '2.5.4.10';
const OID_SAN = '2.5.29.17';
const OID_SKID = '2.5.29.14';
const OID_AKID = '2.5.29.35';
const BASIC_CONSTRAINTS_LEAF = extension('2.5.29.19', true, seq()); // cA DEFAULT FALSE → empty SEQUENCE
const KEY_USAGE_DIGITAL_SIGNATURE = extension('2.5.29.15', true, Buffer.from([0x03, 0x02, 0x07, 0x80]));
const EXT_KEY_USAGE_TLS = extension(
  '2.5.29.37',
  false,
  seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2')), // serverAuth, clientAuth
);

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes (what OpenSSL computes). */
function keyIdOf(spki: Buffer): Buffer {
  const top = readTlv(spki, 0, spki.length);
  const bits = top ? children(spki, top)?.[1] : undefined;
  return createHash('sha1')
    .update(bits ? spki.subarray(bits.start + 1, bits.end) : spki)
    .digest();
}

/** The 4 or 16 octets of an address isIpAddress accepted. */
function ipBytes(ip: string): Buffer {
  if (IPV4.test(ip)) {
    return Buffer.from(ip.split('.').map(Number));
  }
  // The URL parser canonicalises (also embedded IPv4 into hex groups), leaving only '::' to expand.
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head, tail] = canonical.includes('::') ? canonical.split('::') : [canonical, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
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
 * Issues a leaf certificate for the key in `csrPem` (or in `csr`, already verified), signed by `issuer`
 * (normally the issuing CA).
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
  const maxTtl =
    o.maxTtlSeconds === undefined
      ? LEAF_MAX_TTL_SECONDS_DEFAULT
      : positiveInt(o.maxTtlSeconds, 'maxTtlSeconds');
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
    throw new PkiError(
      'ttl_too_long',
      `ttlSeconds would outlive the issuer (notAfter ${issuer.cert.notAfter.toISOString()})`,
      'ttlSeconds',
    );
  }
  let spki: Buffer;
  if (o.csr !== undefined) {
    if (!isVerifiedCsr(o.csr) || o.csrPem !== undefined) {
      throw new PkiError('csr_malformed', 'csr must be what verifyCsr returned, and csrPem absent', 'csr');
    }
    spki = o.csr.spki;
  } else {
    spki = (await verifiedCsr(o.csrPem)).spki;
  }

  const serial = newSerial();
  const tbs = seq(
    VERSION_3,
    uintFromHex(serial),
    ECDSA_WITH_SHA256,
    issuer.subjectDer,
    seq(time(notBefore), time(notAfter)),
    seq(
      set(seq(oid(OID_O), utf8String(o.identity.trustDomain))),
      set(seq(oid(OID_OU), utf8String(o.identity.kind))),
      set(seq(oid(OID_CN), utf8String(o.identity.id))),
    ),
    spki,
    tlv(
      0xa3,
      seq(
        BASIC_CONSTRAINTS_LEAF,
        KEY_USAGE_DIGITAL_SIGNATURE,
        EXT_KEY_USAGE_TLS,
        extension(
          OID_SAN,
          false,
          seq(
            tlv(0x86, Buffer.from(uri, 'ascii')),
            ...dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
            ...ipAddresses.map((ip) => tlv(0x87, ipBytes(ip))),
          ),
        ),
        extension(OID_SKID, false, octetString(keyIdOf(spki))),
        extension(OID_AKID, false, seq(tlv(0x80, Buffer.from(issuer.keyId, 'hex')))),
        extension(TAGS_OID, false, encodeTags(tags)),
      ),
    ),
  );
  // ECDSA-Sig-Value in DER, as X.509 wants it (node:crypto's default dsaEncoding); signed in the libuv thread
  // pool, so a burst of issuance leaves the event loop free for the requests around it.
  const signature = await new Promise<Buffer>((resolve, reject) =>
    nodeSign('sha256', tbs, issuer.privateKey, (err, sig) => (err ? reject(err) : resolve(sig))),
  );
  const der = seq(tbs, ECDSA_WITH_SHA256, bitString(signature));
  const certPem = toPem('CERTIFICATE', der);
  return { certPem, chainPem: certPem + toPem('CERTIFICATE', issuer.der), serial, notBefore, notAfter };
}
