/**
 * The OpenSSL certificate-verification error codes Node's TLS stack reports (`err.code`) when a peer's chain does
 * not lead to the trusted bundle or is out of its validity window — "this is not the peer you trust", as opposed to
 * "nobody answered". One list, so the agent's datapath and the CLI classify TLS failures the same way.
 */
export const CHAIN_VERIFY_ERROR_CODES: readonly string[] = [
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
];
