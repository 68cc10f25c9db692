// The certificates of the stunnel and HAProxy pairs: one ECDSA P-256 CA and a server and a client leaf,
// made with the openssl CLI (what an operator of those tools would do). Palisade's own pair uses the
// certificates its control plane issues — the same key type and signature algorithm.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Certificate followed by its key, the single file HAProxy's `crt` wants. */
  serverCombined: string;
  clientCert: string;
  clientKey: string;
  clientCombined: string;
}

/** Creates the CA and both leaves under `dir` (P-256, SHA-256, server SAN DNS:localhost). */
export function createBenchPki(dir: string): BenchPki {
  mkdirSync(dir, { recursive: true });
  const p = (n: string): string => join(dir, n);
  const ossl = (...a: string[]): void => void execFileSync('openssl', a, { stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-sha256', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=bench CA');
  for (const [name, san] of [['server', 'DNS:localhost,URI:spiffe://bench/ns/bench/pu/server'], ['client', 'URI:spiffe://bench/ns/bench/pu/client']] as const) {
    ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`);
    writeFileSync(p(`${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n`);
    ossl('x509', '-req', '-sha256', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${name}.pem`), '-days', '2', '-extfile', p(`${name}.ext`));
    writeFileSync(p(`${name}-combined.pem`), readFileSync(p(`${name}.pem`), 'utf8') + readFileSync(p(`${name}.key`), 'utf8'));
  }
  return {
    dir,
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    serverCombined: p('server-combined.pem'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    clientCombined: p('client-combined.pem'),
  };
}
