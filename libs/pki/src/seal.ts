// Sealing CA private keys for storage: AES-256-GCM (NIST SP 800-38D) under a 32-byte key-encryption key, a
// fresh random 96-bit nonce per seal (the size GCM is defined for; random nonces are safe far beyond the
// handful of seals a CA ever makes). The envelope is versioned text so it fits a TEXT column or a file:
//   palisade-seal:v1:<nonce b64url>:<ciphertext b64url>:<tag b64url>
// The header "palisade-seal:v1" is bound as additional authenticated data, so a v1 body cannot be replayed
// under another version's rules. Any failure to open — wrong key, a changed byte, a bad shape — is the same
// `unseal_failed`, so callers cannot learn which part was wrong.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PkiError } from './errors';

export const SEAL_HEADER = 'palisade-seal:v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]*$/;

function assertKek(kek: unknown, code: 'seal_failed' | 'unseal_failed'): asserts kek is Buffer {
  if (!(kek instanceof Uint8Array) || kek.length !== 32) {
    throw new PkiError(code, 'kek must be 32 bytes', 'kek');
  }
}

/**
 * Encrypts a PEM private key under `kek` (32 bytes) with AES-256-GCM and a random 12-byte nonce; returns the
 * text envelope `palisade-seal:v1:<nonce>:<ciphertext>:<tag>` (base64url). Throws PkiError('seal_failed') for
 * a kek that is not 32 bytes or an input that is not a PEM private key. Never logs or echoes the key.
 */
export function sealKey(privateKeyPem: string, kek: Buffer): string {
  assertKek(kek, 'seal_failed');
  if (
    typeof privateKeyPem !== 'string' ||
    !/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKeyPem.trimStart())
  ) {
    throw new PkiError('seal_failed', 'privateKeyPem must be a PEM private key', 'privateKeyPem');
  }
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(SEAL_HEADER, 'utf8'));
  const ct = Buffer.concat([cipher.update(privateKeyPem, 'utf8'), cipher.final()]);
  return [
    SEAL_HEADER,
    nonce.toString('base64url'),
    ct.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join(':');
}

/**
 * Opens an envelope made by sealKey with the same `kek`; returns the PEM private key. Throws
 * PkiError('unseal_failed') for a wrong kek, any tampering, an unknown version or a malformed envelope.
 */
export function unsealKey(sealed: string, kek: Buffer): string {
  assertKek(kek, 'unseal_failed');
  const fail = (): never => {
    throw new PkiError(
      'unseal_failed',
      'sealed key cannot be opened with this kek (wrong key, tampered or malformed)',
      'sealed',
    );
  };
  if (typeof sealed !== 'string') {
    return fail();
  }
  const parts = sealed.trim().split(':');
  if (
    parts.length !== 5 ||
    `${parts[0]}:${parts[1]}` !== SEAL_HEADER ||
    !parts.slice(2).every((p) => B64URL.test(p))
  ) {
    return fail();
  }
  const nonce = Buffer.from(parts[2], 'base64url');
  const ct = Buffer.from(parts[3], 'base64url');
  const tag = Buffer.from(parts[4], 'base64url');
  // Re-encoding must give back the same text: rejects non-canonical base64 so every byte of the envelope counts.
  if (
    nonce.length !== NONCE_BYTES ||
    tag.length !== TAG_BYTES ||
    [nonce, ct, tag].some((b, i) => b.toString('base64url') !== parts[i + 2])
  ) {
    return fail();
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(SEAL_HEADER, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  } catch {
    return fail();
  }
}
