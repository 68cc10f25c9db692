/**
 * Every failure of @palisade/pki is a PkiError with a stable `code` (what went wrong, safe to branch on and to
 * show in an API response) and the `field` of the input it concerns. Messages never contain key material.
 */
export type PkiErrorCode =
  | 'csr_signature_invalid'
  | 'csr_malformed'
  | 'key_type_unsupported'
  | 'key_malformed'
  | 'ttl_too_long'
  | 'ttl_invalid'
  | 'extension_malformed'
  | 'certificate_malformed'
  | 'chain_malformed'
  | 'chain_untrusted'
  | 'certificate_revoked'
  | 'certificate_expired'
  | 'not_yet_valid'
  | 'identity_malformed'
  | 'trust_domain_malformed'
  | 'trust_domain_mismatch'
  | 'tags_malformed'
  | 'san_malformed'
  | 'issuer_invalid'
  | 'seal_failed'
  | 'unseal_failed';

export class PkiError extends Error {
  constructor(
    readonly code: PkiErrorCode,
    message: string,
    /** The input the error concerns, e.g. `csrPem`, `ttlSeconds`, `identity.namespace`, `chainPem[1]`. */
    readonly field: string = '',
  ) {
    super(message);
    this.name = 'PkiError';
  }
}
