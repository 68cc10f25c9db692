import { HttpStatus } from '@nestjs/common';
import { PkiError, verifyCsr, type Identity } from '@palisade/pki';
import { ApiError } from '../../common/api-error';

/** Agent certificates live 24 h (DESIGN.md §3) and are renewed over the control channel at half life. */
export const AGENT_CERT_TTL_SECONDS = 86_400;

/** What an agent certificate says, at enrollment and at every renewal alike. */
export function agentCertificateRequest(a: { id: string; namespace: string; hostname: string }): {
  identity: Omit<Identity, 'trustDomain'>;
  tags: string[];
  ttlSeconds: number;
} {
  return {
    identity: { kind: 'agent', id: a.id, namespace: a.namespace },
    tags: ['$identity=agent', `$namespace=${a.namespace}`, `$id=${a.id}`, `$hostname=${a.hostname}`],
    ttlSeconds: AGENT_CERT_TTL_SECONDS,
  };
}

/** Checks a CSR's signature and key type before anything is consumed or issued: a 400 naming `csr` otherwise. */
export async function checkCsr(csr: string): Promise<void> {
  try {
    await verifyCsr(csr);
  } catch (e) {
    if (e instanceof PkiError) {
      throw new ApiError(HttpStatus.BAD_REQUEST, e.code, e.message, { field: 'csr' });
    }
    throw e;
  }
}
