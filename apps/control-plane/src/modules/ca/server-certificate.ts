import { isIP } from 'node:net';
import { createCsr, generateKeyPair } from '@palisade/pki';
import { type AppConfig } from '../../config/config';
import { type CaService } from './ca.service';

/** The control plane's own HTTPS certificate: 24 h, renewed at half life (see app.ts). */
export const SERVER_CERT_TTL_SECONDS = 86_400;

export interface ServerTlsMaterial {
  key: string;
  /**
   * Leaf + issuing CA + root: clients that trust only the root (ca.pem) can build the chain, and an agent
   * enrolling with a token pins the root by its fingerprint before it trusts anything (RFC 8446 §4.4.2 allows
   * the trust anchor in the chain).
   */
  cert: string;
  ca: string[];
  notAfter: Date;
}

/** SANs: localhost, 127.0.0.1, ::1, the listen host, and PALISADE_SERVER_NAMES. */
export function serverNames(config: AppConfig): { dnsNames: string[]; ipAddresses: string[] } {
  const all = new Set(['localhost', '127.0.0.1', '::1', config.listenHost, ...config.serverNames]);
  all.delete('0.0.0.0');
  all.delete('::');
  const names = [...all];
  return { dnsNames: names.filter((n) => isIP(n) === 0), ipAddresses: names.filter((n) => isIP(n) !== 0) };
}

/**
 * Issues a fresh server certificate. Its key is generated here, in this process, and only ever held in
 * memory: a restart simply issues a new one, so no server key is stored anywhere.
 */
export async function issueServerCertificate(ca: CaService, config: AppConfig): Promise<ServerTlsMaterial> {
  const keys = await generateKeyPair();
  const csr = await createCsr(keys.privateKeyPem, 'control-plane');
  const leaf = await ca.issue({
    csrPem: csr,
    identity: { namespace: '/system', kind: 'server', id: 'control-plane' },
    tags: [],
    ttlSeconds: SERVER_CERT_TTL_SECONDS,
    ...serverNames(config),
  });
  const root = ca.rootCertPem();
  const chain = leaf.chainPem.endsWith('\n') ? leaf.chainPem : `${leaf.chainPem}\n`;
  return { key: keys.privateKeyPem, cert: chain + root, ca: ca.trustBundle(), notAfter: leaf.notAfter };
}
