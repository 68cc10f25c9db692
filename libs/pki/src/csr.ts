// PKCS#10 certificate signing requests (RFC 2986). The CA only ever sees these: a CSR proves possession of
// the private key by its self-signature, and carries the public key the certificate will certify. Nothing
// else in it (subject, requested extensions) is trusted — the CA sets the whole certificate profile itself.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { PkiError } from './errors';
import { SIGNING_ALG, importSigningKey, isP256, pemBlocks, publicKeyPemOf, subtle, x509, EC_P256 } from './crypto';

/**
 * Builds a PEM CSR signed by `privateKeyPem` (an ECDSA P-256 PKCS#8 PEM) with subject `CN=<commonName>`
 * (default `palisade`). The subject is informative only; the CA ignores it. Throws PkiError('key_malformed' |
 * 'key_type_unsupported') for a bad key, or 'csr_malformed' for a common name that is not 1-64 characters.
 */
export async function createCsr(privateKeyPem: string, commonName = 'palisade'): Promise<string> {
  if (typeof commonName !== 'string' || commonName.length === 0 || commonName.length > 64 || /[,+=\\"<>;#]/.test(commonName)) {
    throw new PkiError('csr_malformed', 'commonName must be 1-64 characters without , + = \\ " < > ; #', 'commonName');
  }
  const privateKey = await importSigningKey(privateKeyPem, 'privateKeyPem');
  const spki = pemBlocks(publicKeyPemOf(privateKeyPem), 'PUBLIC KEY')[0];
  const publicKey = await subtle.importKey('spki', spki, EC_P256, true, ['verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys: { privateKey, publicKey },
    signingAlgorithm: SIGNING_ALG,
  });
  return csr.toString('pem');
}

/** Parses a PEM (or DER) CSR; throws PkiError('csr_malformed'). */
export function parseCsr(csr: string | Uint8Array, field = 'csrPem'): x509.Pkcs10CertificateRequest {
  try {
    if (typeof csr === 'string') {
      const blocks = pemBlocks(csr, 'CERTIFICATE REQUEST');
      if (blocks.length !== 1) {
        throw new Error('not one PEM CERTIFICATE REQUEST');
      }
      return new x509.Pkcs10CertificateRequest(blocks[0]);
    }
    return new x509.Pkcs10CertificateRequest(csr);
  } catch {
    throw new PkiError('csr_malformed', `${field} is not a PEM PKCS#10 certificate request`, field);
  }
}

/**
 * Checks a CSR before anything is signed for it, in this order: it parses (`csr_malformed`), its key is
 * ECDSA P-256 (`key_type_unsupported` — RSA, P-384, Ed25519 … are refused), and its self-signature verifies
 * with that key (`csr_signature_invalid` — e.g. a CSR whose public key was swapped for someone else's).
 * Returns the certified public key as SPKI PEM.
 */
export async function verifyCsr(csrPem: string): Promise<{ publicKeyPem: string }> {
  const { publicKeyPem } = await verifiedCsr(csrPem);
  return { publicKeyPem };
}

/** verifyCsr, also returning the parsed request (used by issueLeaf to avoid parsing twice). */
export async function verifiedCsr(
  csrPem: string,
  field = 'csrPem',
): Promise<{ publicKeyPem: string; csr: x509.Pkcs10CertificateRequest }> {
  if (typeof csrPem !== 'string') {
    throw new PkiError('csr_malformed', `${field} must be a PEM string`, field);
  }
  const csr = parseCsr(csrPem, field);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    // A key OpenSSL cannot even parse is not a key type we support.
    throw new PkiError('key_type_unsupported', `${field} carries a public key that is not ECDSA P-256`, field);
  }
  if (!isP256(key)) {
    throw new PkiError('key_type_unsupported', `${field} carries a public key that is not ECDSA P-256`, field);
  }
  let ok = false;
  try {
    ok = (csr.signatureAlgorithm as { name?: string } | undefined)?.name === 'ECDSA' && (await csr.verify());
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new PkiError('csr_signature_invalid', `${field} is not signed by the key it carries`, field);
  }
  return { publicKeyPem: key.export({ format: 'pem', type: 'spki' }).toString(), csr };
}
