// The one place that wires @peculiar/x509 to Node's WebCrypto and converts between PEM, DER and CryptoKey.
// Node's own KeyObject is used to *inspect* keys (curve, type) because it parses every key format OpenSSL
// knows, so a wrong key type is reported as such instead of failing later inside WebCrypto.
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { PkiError } from './errors';

// The workspace compiles without the DOM lib, so the WebCrypto types come from node:crypto.
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto);

export const subtle = webcrypto.subtle;
export const EC_P256: webcrypto.EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' };
export const SIGNING_ALG: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/** True when the Node key object is an EC key on P-256 (OpenSSL calls the curve prime256v1). */
export function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** Parses a PKCS#8 (or SEC1) PEM private key and checks it is ECDSA P-256; returns it as PKCS#8 DER. */
export function p256PrivateKeyDer(privateKeyPem: string, field: string): Buffer {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch {
    throw new PkiError('key_malformed', `${field} is not a PEM private key`, field);
  }
  if (!isP256(key)) {
    throw new PkiError('key_type_unsupported', `${field} must be an ECDSA P-256 key`, field);
  }
  return key.export({ format: 'der', type: 'pkcs8' });
}

// Importing a PKCS#8 key into WebCrypto costs about as much as one signature, and a CA signs thousands of
// leaves with the same key. The cache holds the non-extractable CryptoKey the caller's PEM already stands for.
const signingKeys = new Map<string, Promise<CryptoKey>>();
const SIGNING_KEY_CACHE_MAX = 16;

/** The WebCrypto signing key for a P-256 PKCS#8 PEM; throws PkiError('key_malformed'|'key_type_unsupported'). */
export function importSigningKey(privateKeyPem: string, field: string): Promise<CryptoKey> {
  const cached = signingKeys.get(privateKeyPem);
  if (cached) {
    return cached;
  }
  const der = p256PrivateKeyDer(privateKeyPem, field);
  const p = subtle.importKey('pkcs8', der, EC_P256, false, ['sign']);
  if (signingKeys.size >= SIGNING_KEY_CACHE_MAX) {
    signingKeys.delete(signingKeys.keys().next().value as string);
  }
  signingKeys.set(privateKeyPem, p);
  p.catch(() => signingKeys.delete(privateKeyPem));
  return p;
}

/** SPKI PEM of the public half of a private key PEM. */
export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'pem', type: 'spki' }).toString();
}

/**
 * A fresh certificate serial: 16 random bytes (RFC 5280 §4.1.2.2 allows up to 20; CA/B Forum asks for ≥ 64
 * random bits), first byte in 0x01..0x7f so the DER INTEGER is positive and needs no padding byte — the
 * serial string is then always exactly 32 lower-case hex digits, the same in our API, `openssl x509 -serial`
 * (upper-cased there) and deny lists.
 */
export function newSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] % 0x7f) + 1;
  return b.toString('hex');
}

/** Canonical serial string: lower-case hex without a leading 00 sign byte. */
export function normalizeSerial(hex: string): string {
  let s = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  while (s.length > 2 && s.startsWith('00')) {
    s = s.slice(2);
  }
  return s;
}

export function toPem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block of `label` in `text`, as DER, in order. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1] === label) {
      out.push(Buffer.from(m[2].replace(/\s+/g, ''), 'base64'));
    }
  }
  return out;
}

export { x509 };
