import { HttpStatus } from '@nestjs/common';
import { PkiError, verifyCsr, type Identity, type VerifiedCsr } from '@palisade/pki';
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

/**
 * Checks a CSR's signature and key type before anything is consumed or issued: a 400 naming `csr` otherwise.
 * The verified request goes on to CaService.issue as `csr`, so it is not checked a second time.
 */
export async function checkCsr(csr: string): Promise<VerifiedCsr> {
  try {
    return await verifyCsr(csr);
  } catch (e) {
    if (e instanceof PkiError) {
      throw new ApiError(HttpStatus.BAD_REQUEST, e.code, e.message, { field: 'csr' });
    }
    throw e;
  }
}
