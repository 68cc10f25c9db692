// A CA that Palisade does not trust, and a client certificate from it, made with the openssl CLI: the "client whose
// certificate comes from a different CA" of the lab and the demo. Idempotent: an existing pair is reused.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function foreignClientCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'foreign.pem');
  const key = join(dir, 'foreign.key');
  if (!existsSync(cert)) {
    mkdirSync(dir, { recursive: true });
    const ossl = (...a: string[]) => execFileSync('openssl', a, { stdio: 'pipe' });
    const p256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    ossl('req', '-x509', ...p256, '-keyout', join(dir, 'foreign-ca.key'), '-out', join(dir, 'foreign-ca.pem'), '-days', '30', '-subj', '/CN=Not Palisade');
    ossl('req', ...p256, '-keyout', key, '-out', join(dir, 'foreign.csr'), '-subj', '/CN=foreign');
    ossl('x509', '-req', '-in', join(dir, 'foreign.csr'), '-CA', join(dir, 'foreign-ca.pem'), '-CAkey', join(dir, 'foreign-ca.key'), '-CAcreateserial', '-out', cert, '-days', '30');
  }
  return { cert, key };
}
