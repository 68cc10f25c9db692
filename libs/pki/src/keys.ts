import { generateKeyPair as nodeGenerateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(nodeGenerateKeyPair);

/**
 * Generates a fresh ECDSA P-256 key pair where it is called (keys never travel: agents call this on their
 * host and send only a CSR). Returns the private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, usable as
 * `key` by node:tls) and the public key as SPKI PEM.
 */
export async function generateKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const { privateKey, publicKey } = await generate('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
