// @palisade/pki — the CA, CSRs, short-lived identity certificates and their verification. Plain functions on
// @peculiar/x509 + Node's WebCrypto; no framework, no networking. See README.md for the certificate profile.
export { PkiError, type PkiErrorCode } from './errors';
export { TAGS_OID } from './tags-extension';
export { generateKeyPair } from './keys';
export { createCsr, verifyCsr, type VerifiedCsr } from './csr';
export {
  createRootCa,
  createIssuingCa,
  CLOCK_SKEW_SECONDS,
  ROOT_TTL_DAYS_DEFAULT,
  ISSUING_TTL_DAYS_DEFAULT,
  type CaMaterial,
} from './ca';
export { sealKey, unsealKey, SEAL_HEADER } from './seal';
export { spiffeId, parseSpiffeId, type Identity, type IdentityKind } from './identity';
export { issueLeaf, LEAF_MAX_TTL_SECONDS_DEFAULT, type IssueLeafOptions, type IssuedLeaf } from './leaf';
export { readCertificate, fingerprint, type CertificateInfo } from './read';
export { verifyChain, type VerifiedPeer } from './verify';
export { CHAIN_VERIFY_ERROR_CODES } from './verify-codes';
