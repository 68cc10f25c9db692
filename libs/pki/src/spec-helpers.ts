// Shared fixtures for the @palisade/pki specs (not exported from the library): a CA hierarchy, leaves, and a
// thin wrapper around the real OpenSSL command line, which is the independent judge of our X.509 output.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIssuingCa, createRootCa, type CaMaterial } from './ca';
import { SIGNING_ALG, importSigningKey, newSerial, pemBlocks, x509 } from './crypto';
import { createCsr } from './csr';
import { generateKeyPair } from './keys';
import { issueLeaf, type IssueLeafOptions, type IssuedLeaf } from './leaf';
import { type Identity } from './identity';

export const TRUST_DOMAIN = 'palisade.test';

export interface Hierarchy {
  root: CaMaterial;
  issuing: CaMaterial;
}

export async function hierarchy(trustDomain = TRUST_DOMAIN): Promise<Hierarchy> {
  const root = await createRootCa({ trustDomain });
  return { root, issuing: await createIssuingCa(root) };
}

export function identity(over: Partial<Identity> = {}): Identity {
  return { trustDomain: TRUST_DOMAIN, namespace: '/acme/prod', kind: 'pu', id: 'pu-1', ...over };
}

export interface Leaf extends IssuedLeaf {
  privateKeyPem: string;
}

/** A fresh key, a CSR for it, and a leaf issued by `issuer` (defaults: a PU identity, 1 h). */
export async function leaf(issuer: CaMaterial, over: Partial<IssueLeafOptions> = {}): Promise<Leaf> {
  const { privateKeyPem } = await generateKeyPair();
  const csrPem = await createCsr(privateKeyPem, 'spec');
  const issued = await issueLeaf({
    issuer,
    csrPem,
    identity: identity(),
    tags: ['app=payments', '$namespace=/acme/prod'],
    ttlSeconds: 3600,
    ...over,
  });
  return { ...issued, privateKeyPem };
}

/** A temporary directory for files handed to openssl; `cleanup` removes it. */
export function tempDir(): {
  dir: string;
  write: (name: string, text: string) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-pki-'));
  return {
    dir,
    write: (name, text) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs the openssl CLI; returns { status, output } with stdout and stderr together (openssl reports on both). */
export function openssl(args: string[], input?: string): { status: number; output: string } {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  if (r.error) {
    throw r.error;
  }
  return { status: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

/** A certificate signed by `issuer` with hand-picked SANs and extensions — what a buggy or hostile CA might emit. */
export async function craft(
  issuer: CaMaterial,
  names: x509.JsonGeneralNames,
  extensions: x509.Extension[],
  validity = { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000) },
): Promise<string> {
  const { publicKeyPem } = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: 'CN=crafted',
    issuer: new x509.X509Certificate(issuer.certPem).subjectName,
    ...validity,
    signingAlgorithm: SIGNING_ALG,
    publicKey: pemBlocks(publicKeyPem, 'PUBLIC KEY')[0],
    signingKey: await importSigningKey(issuer.privateKeyPem, 'issuer'),
    extensions: [new x509.SubjectAlternativeNameExtension(names), ...extensions],
  });
  return cert.toString('pem');
}
