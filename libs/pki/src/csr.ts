// PKCS#10 certificate signing requests (RFC 2986). The CA only ever sees these: a CSR proves possession of
// the private key by its self-signature, and carries the public key the certificate will certify. Nothing
// else in it (subject, requested extensions) is trusted — the CA sets the whole certificate profile itself.
//
// Verification walks the DER itself and checks the signature with node:crypto over the exact bytes that were
// signed (the CertificationRequestInfo as received), which is both stricter and ~20× faster than building the
// asn1js object model; CSRs are created with @peculiar/x509.
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { PkiError } from './errors';
import {
  EC_P256,
  SIGNING_ALG,
  importSigningKey,
  isP256,
  pemBlocks,
  publicKeyPemOf,
  subtle,
  x509,
} from './crypto';
import { children, oid, readTlv, seq } from './der';

/**
 * Builds a PEM CSR signed by `privateKeyPem` (an ECDSA P-256 PKCS#8 PEM) with subject `CN=<commonName>`
 * (default `palisade`). The subject is informative only; the CA ignores it. Throws PkiError('key_malformed' |
 * 'key_type_unsupported') for a bad key, or 'csr_malformed' for a common name that is not 1-64 characters.
 */
export async function createCsr(privateKeyPem: string, commonName = 'palisade'): Promise<string> {
  if (
    typeof commonName !== 'string' ||
    commonName.length === 0 ||
    commonName.length > 64 ||
    /[,+=\\"<>;#]/.test(commonName)
  ) {
    throw new PkiError(
      'csr_malformed',
      'commonName must be 1-64 characters without , + = \\ " < > ; #',
      'commonName',
    );
  }
  const privateKey = await importSigningKey(privateKeyPem, 'privateKeyPem');
  const spki = pemBlocks(publicKeyPemOf(privateKeyPem), 'PUBLIC KEY')[0];
  const publicKey = await subtle.importKey('spki', spki, EC_P256, true, ['verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys: { privateKey, publicKey },
    signingAlgorithm: SIGNING_ALG,
  });
  return `${csr.toString('pem')}\n`;
}

// ECDSA signature algorithms a CSR may use (RFC 5758 §3.2: the parameters field is absent).
const ECDSA_HASHES = new Map<string, string>(
  [
    ['1.2.840.10045.4.3.2', 'sha256'],
    ['1.2.840.10045.4.3.3', 'sha384'],
    ['1.2.840.10045.4.3.4', 'sha512'],
  ].map(([id, hash]) => [seq(oid(id)).toString('hex'), hash]),
);

interface CsrParts {
  info: Buffer;
  spki: Buffer;
  sigAlg: Buffer;
  signature: Buffer;
}

/** Splits a DER CertificationRequest into the parts we check; null unless it is well-formed DER. */
function csrParts(der: Buffer): CsrParts | null {
  const top = readTlv(der, 0, der.length);
  if (!top || top.tag !== 0x30 || top.end !== der.length) {
    return null;
  }
  const parts = children(der, top);
  if (
    !parts ||
    parts.length !== 3 ||
    parts[0].tag !== 0x30 ||
    parts[1].tag !== 0x30 ||
    parts[2].tag !== 0x03
  ) {
    return null;
  }
  const [info, sigAlg, sig] = parts;
  const fields = children(der, info);
  // version INTEGER 0, subject Name, subjectPKInfo, attributes [0] (optional here: some encoders omit it).
  if (
    !fields ||
    fields.length < 3 ||
    fields.length > 4 ||
    !der.subarray(fields[0].pos, fields[0].end).equals(Buffer.from([0x02, 0x01, 0x00])) ||
    fields[1].tag !== 0x30 ||
    fields[2].tag !== 0x30 ||
    (fields.length === 4 && fields[3].tag !== 0xa0) ||
    sig.end - sig.start < 2 ||
    der[sig.start] !== 0
  ) {
    return null;
  }
  return {
    info: der.subarray(info.pos, info.end),
    spki: der.subarray(fields[2].pos, fields[2].end),
    sigAlg: der.subarray(sigAlg.pos, sigAlg.end),
    signature: der.subarray(sig.start + 1, sig.end),
  };
}

/** A CSR that passed verifyCsr: the certified key, ready for issueLeaf without being checked a second time. */
export interface VerifiedCsr {
  /** The certified public key as SPKI PEM (encoded on first read). */
  readonly publicKeyPem: string;
  /** The SubjectPublicKeyInfo DER exactly as the CSR carries it. */
  readonly spki: Buffer;
}

// Only objects verifyCsr made count as verified: issueLeaf checks membership, not shape.
const VERIFIED = new WeakSet<VerifiedCsr>();

/**
 * Checks a CSR before anything is signed for it, in this order: it is one well-formed PEM PKCS#10 request
 * (`csr_malformed`), its key is ECDSA P-256 (`key_type_unsupported` — RSA, P-384, Ed25519 … are refused), and
 * its self-signature (ECDSA with SHA-256/384/512) verifies with that key (`csr_signature_invalid` — e.g. a CSR
 * whose public key was swapped for someone else's). Returns the verified request, which issueLeaf accepts as
 * `csr` in place of `csrPem` so a request is checked once however many steps it passes through.
 */
export async function verifyCsr(csrPem: string): Promise<VerifiedCsr> {
  const { key, spki } = await verifiedCsr(csrPem);
  let pem: string | undefined;
  const v: VerifiedCsr = {
    spki,
    get publicKeyPem() {
      return (pem ??= key.export({ format: 'pem', type: 'spki' }).toString());
    },
  };
  VERIFIED.add(v);
  return v;
}

/** True only for what verifyCsr returned. */
export function isVerifiedCsr(v: unknown): v is VerifiedCsr {
  return typeof v === 'object' && v !== null && VERIFIED.has(v as VerifiedCsr);
}

/** The fixed DER prefix of an ECDSA P-256 SubjectPublicKeyInfo with an uncompressed point (RFC 5480). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');

/**
 * The key of a P-256 SPKI, or null if OpenSSL cannot read it as one. The usual uncompressed form goes through a
 * JWK import — OpenSSL 3's DER decoder costs about twice as much, and issuance pays it once per certificate — which
 * checks the point is on the curve just the same; any other encoding (a compressed point, another algorithm) takes
 * the DER decoder and the curve check.
 */
function p256Key(spki: Buffer): KeyObject | null {
  try {
    if (spki.length === P256_SPKI_PREFIX.length + 64 && spki.subarray(0, P256_SPKI_PREFIX.length).equals(P256_SPKI_PREFIX)) {
      const x = spki.subarray(P256_SPKI_PREFIX.length, P256_SPKI_PREFIX.length + 32).toString('base64url');
      const y = spki.subarray(P256_SPKI_PREFIX.length + 32).toString('base64url');
      return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
    }
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return isP256(key) ? key : null;
  } catch {
    return null; // a key OpenSSL cannot parse is not one we support either
  }
}

/** node:crypto's verify in the libuv thread pool, so a burst of CSRs does not hold the event loop. */
function verifyAsync(hash: string, data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      nodeVerify(hash, data, key, signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}

/** verifyCsr's checks; returns the public key and its SPKI DER exactly as the CSR carries it. */
export async function verifiedCsr(csrPem: unknown, field = 'csrPem'): Promise<{ key: KeyObject; spki: Buffer }> {
  const malformed = (): never => {
    throw new PkiError('csr_malformed', `${field} is not a PEM PKCS#10 certificate request`, field);
  };
  if (typeof csrPem !== 'string') {
    return malformed();
  }
  const blocks = pemBlocks(csrPem, 'CERTIFICATE REQUEST');
  const parts = blocks.length === 1 ? csrParts(blocks[0]) : null;
  if (!parts) {
    return malformed();
  }
  const key = p256Key(parts.spki);
  if (!key) {
    throw new PkiError(
      'key_type_unsupported',
      `${field} carries a public key that is not ECDSA P-256`,
      field,
    );
  }
  const hash = ECDSA_HASHES.get(parts.sigAlg.toString('hex'));
  if (hash === undefined || !(await verifyAsync(hash, parts.info, key, parts.signature))) {
    throw new PkiError('csr_signature_invalid', `${field} is not signed by the key it carries`, field);
  }
  return { key, spki: Buffer.from(parts.spki) };
}
