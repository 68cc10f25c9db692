// The two-level CA: a long-lived root (its key can stay sealed and unused most of the time) and a shorter-lived
// issuing CA that signs every leaf. Two levels, as in step-ca and SPIRE's upstream-authority setups, so the
// issuing CA can be rotated (a new one, signed by the same root) without touching anyone's trust in the root.
import { PkiError } from './errors';
import {
  EC_P256,
  SIGNING_ALG,
  importSigningKey,
  newSerial,
  normalizeSerial,
  p256PrivateKeyDer,
  subtle,
  x509,
  type CryptoKey,
  type CryptoKeyPair,
} from './crypto';
import { assertTrustDomain } from './identity';
import { createPublicKey, createPrivateKey, type KeyObject } from 'node:crypto';
import { children, readTlv } from './der';

/** A CA certificate with its private key (PKCS#8 PEM — store it only sealed, see sealKey). */
export interface CaMaterial {
  certPem: string;
  privateKeyPem: string;
  /** Lower-case hex serial of certPem. */
  serial: string;
  notAfter: Date;
}

/** Tolerated clock skew: every certificate's notBefore is backdated by this much. */
export const CLOCK_SKEW_SECONDS = 30;
export const ROOT_TTL_DAYS_DEFAULT = 3650;
export const ISSUING_TTL_DAYS_DEFAULT = 365;
const ROOT_CN_PREFIX = 'Palisade Root CA ';
const DAY_MS = 86_400_000;

/** X.509 times have whole seconds; truncating first makes the dates we return equal the ones in the cert. */
export function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

function resolveNow(now: unknown, field = 'now'): Date {
  if (now === undefined) {
    return new Date();
  }
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new PkiError('ttl_invalid', `${field} must be a valid Date`, field);
  }
  return now;
}
export { resolveNow };

function ttlDaysOf(v: unknown, dflt: number): number {
  const d = v === undefined ? dflt : v;
  if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0 || d > 36_500) {
    throw new PkiError('ttl_invalid', 'ttlDays must be a number of days in (0, 36500]', 'ttlDays');
  }
  return d;
}

async function newCaKeys(): Promise<{ keys: CryptoKeyPair; privateKeyPem: string }> {
  const keys = (await subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
  const privateKeyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
  return { keys, privateKeyPem };
}

function caExtensions(pathLength: number): x509.Extension[] {
  return [
    // RFC 5280 §4.2.1.9: basicConstraints MUST be critical in CA certificates; pathLen bounds the depth below.
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}

function material(cert: x509.X509Certificate, privateKeyPem: string): CaMaterial {
  return {
    certPem: `${cert.toString('pem')}\n`,
    privateKeyPem,
    serial: normalizeSerial(cert.serialNumber),
    notAfter: cert.notAfter,
  };
}

/**
 * Creates a self-signed root CA for `trustDomain`: ECDSA P-256, subject `CN=Palisade Root CA <trustDomain>`,
 * basicConstraints CA pathLen 1 (one issuing CA below it), keyUsage keyCertSign+cRLSign (both critical),
 * subject and authority key identifiers, random 16-byte serial, valid from now − 30 s for `ttlDays`
 * (default 3650). Throws PkiError('trust_domain_malformed' | 'ttl_invalid').
 */
export async function createRootCa(o: {
  trustDomain: string;
  ttlDays?: number;
  now?: Date;
}): Promise<CaMaterial> {
  assertTrustDomain(o?.trustDomain);
  const ttlDays = ttlDaysOf(o.ttlDays, ROOT_TTL_DAYS_DEFAULT);
  const now = resolveNow(o.now);
  const { keys, privateKeyPem } = await newCaKeys();
  const name = `CN=${ROOT_CN_PREFIX}${o.trustDomain}`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name,
    notBefore: wholeSeconds(now.getTime() - CLOCK_SKEW_SECONDS * 1000),
    notAfter: wholeSeconds(now.getTime() + ttlDays * DAY_MS),
    signingAlgorithm: SIGNING_ALG,
    keys,
    extensions: [
      ...caExtensions(1),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return material(cert, privateKeyPem);
}

/** A CA loaded for signing: its certificate, keys, subject key id, trust domain and raw subject name. */
export interface LoadedCa {
  cert: x509.X509Certificate;
  der: Buffer;
  /** The DER of the certificate's subject Name, copied byte for byte into the issuer field of what it signs. */
  subjectDer: Buffer;
  signingKey: CryptoKey;
  privateKey: KeyObject;
  keyId: string;
  trustDomain: string | null;
}

/** The trust domain a Palisade CA certificate names (root: in its CN; issuing CA: its O), or null. */
export function caTrustDomain(cert: x509.X509Certificate): string | null {
  const cn = cert.subjectName.getField('CN')[0];
  if (cn?.startsWith(ROOT_CN_PREFIX)) {
    return cn.slice(ROOT_CN_PREFIX.length);
  }
  return cert.subjectName.getField('O')[0] ?? null;
}

/** The subject Name TLV of a DER certificate (TBSCertificate field 6, or 5 without the explicit version). */
function subjectNameDer(der: Buffer): Buffer | null {
  const top = readTlv(der, 0, der.length);
  const tbs = top && children(der, top)?.[0];
  const fields = tbs ? children(der, tbs) : null;
  if (!fields) {
    return null;
  }
  const subject = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
  return subject?.tag === 0x30 ? der.subarray(subject.pos, subject.end) : null;
}

// Parsing a CA certificate and importing its key costs more than signing a leaf, and an issuing CA signs
// thousands of leaves: loaded CAs are kept, keyed by the exact material they were loaded from.
const loaded = new Map<string, Promise<LoadedCa>>();
const LOADED_MAX = 16;

async function load(ca: CaMaterial, field: string): Promise<LoadedCa> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(ca.certPem);
  } catch {
    throw new PkiError('issuer_invalid', `${field}.certPem is not a PEM certificate`, `${field}.certPem`);
  }
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (!bc?.ca || (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign))) {
    throw new PkiError(
      'issuer_invalid',
      `${field}.certPem is not a CA certificate allowed to sign certificates`,
      `${field}.certPem`,
    );
  }
  const pkcs8 = p256PrivateKeyDer(ca.privateKeyPem, `${field}.privateKeyPem`);
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  if (!spki.equals(Buffer.from(cert.publicKey.rawData))) {
    throw new PkiError(
      'issuer_invalid',
      `${field}.privateKeyPem does not belong to ${field}.certPem`,
      `${field}.privateKeyPem`,
    );
  }
  const der = Buffer.from(cert.rawData);
  const subjectDer = subjectNameDer(der);
  if (!subjectDer) {
    throw new PkiError(
      'issuer_invalid',
      `${field}.certPem is not a DER X.509 certificate`,
      `${field}.certPem`,
    );
  }
  const skid = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyId = skid?.keyId ?? (await x509.SubjectKeyIdentifierExtension.create(cert.publicKey)).keyId;
  const signingKey = await importSigningKey(ca.privateKeyPem, `${field}.privateKeyPem`);
  return { cert, der, subjectDer, signingKey, privateKey, keyId, trustDomain: caTrustDomain(cert) };
}

/**
 * Checks CA material before it signs anything: the certificate parses, is a CA allowed to sign certificates,
 * is valid at `now`, and the private key is the one the certificate certifies. Throws PkiError('issuer_invalid'
 * | 'key_malformed' | 'key_type_unsupported').
 */
export async function loadCa(ca: CaMaterial, now: Date, field: string): Promise<LoadedCa> {
  if (
    typeof ca !== 'object' ||
    ca === null ||
    typeof ca.certPem !== 'string' ||
    typeof ca.privateKeyPem !== 'string'
  ) {
    throw new PkiError('issuer_invalid', `${field} must be CA material { certPem, privateKeyPem }`, field);
  }
  const cacheKey = `${ca.certPem}\n${ca.privateKeyPem}`;
  let p = loaded.get(cacheKey);
  if (!p) {
    p = load(ca, field);
    if (loaded.size >= LOADED_MAX) {
      loaded.delete(loaded.keys().next().value as string);
    }
    loaded.set(cacheKey, p);
    p.catch(() => loaded.delete(cacheKey));
  }
  const l = await p;
  if (now < l.cert.notBefore || now > l.cert.notAfter) {
    throw new PkiError('issuer_invalid', `${field} is not valid at ${now.toISOString()}`, field);
  }
  return l;
}

/**
 * Creates an issuing CA signed by `root`: ECDSA P-256, subject `CN=Palisade Issuing CA <first 8 hex of its
 * serial>, O=<trust domain>` (distinct per rotation), basicConstraints CA pathLen 0 (signs only leaves),
 * keyUsage keyCertSign+cRLSign, SKID and AKID (= the root's SKID), valid from now − 30 s for `ttlDays`
 * (default 365) but never past the root's notAfter. Throws PkiError('issuer_invalid' | 'ttl_invalid' |
 * 'ttl_too_long').
 */
export async function createIssuingCa(
  root: CaMaterial,
  o: { ttlDays?: number; now?: Date } = {},
): Promise<CaMaterial> {
  const now = resolveNow(o.now);
  const ttlDays = ttlDaysOf(o.ttlDays, ISSUING_TTL_DAYS_DEFAULT);
  const issuer = await loadCa(root, now, 'root');
  if (issuer.cert.getExtension(x509.BasicConstraintsExtension)?.pathLength === 0) {
    throw new PkiError('issuer_invalid', 'root has pathLen 0: it may not sign another CA', 'root');
  }
  const notAfter = wholeSeconds(now.getTime() + ttlDays * DAY_MS);
  if (notAfter > issuer.cert.notAfter) {
    throw new PkiError(
      'ttl_too_long',
      `ttlDays would outlive the root CA (notAfter ${issuer.cert.notAfter.toISOString()})`,
      'ttlDays',
    );
  }
  const { keys, privateKeyPem } = await newCaKeys();
  const serial = newSerial();
  const td = issuer.trustDomain;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=Palisade Issuing CA ${serial.slice(0, 8)}${td ? `, O=${td}` : ''}`,
    issuer: issuer.cert.subjectName,
    notBefore: wholeSeconds(now.getTime() - CLOCK_SKEW_SECONDS * 1000),
    notAfter,
    signingAlgorithm: SIGNING_ALG,
    publicKey: keys.publicKey,
    signingKey: issuer.signingKey,
    extensions: [
      ...caExtensions(0),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.AuthorityKeyIdentifierExtension(issuer.keyId),
    ],
  });
  return material(cert, privateKeyPem);
}
