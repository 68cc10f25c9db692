// SecureContext construction in one place, so that server and client contexts share the same version
// floor and suite order, and so a context is built once (parsing keys and the bundle is the expensive
// part of a handshake set-up) and reused by every connection until it is replaced.
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { TLS_CIPHERSUITES, TLS_MIN_VERSION } from './limits';
import type { ContextMaterial } from './types';

/** Options for a TLS 1.3-only context carrying `material` (key, leaf + chain, trust bundle). */
export function contextOptions(material: ContextMaterial): SecureContextOptions {
  return {
    key: material.key,
    cert: material.cert,
    ca: material.ca,
    minVersion: TLS_MIN_VERSION,
    // Node routes `TLS_*` names in `ciphers` to the TLS 1.3 suite list (SSL_CTX_set_ciphersuites).
    ciphers: TLS_CIPHERSUITES,
  };
}

/**
 * Builds a client-side SecureContext (the PU's certificate, and the bundle that verifies servers).
 * Throws Node's own error (e.g. ERR_OSSL_…) on a key that does not match the certificate or bad PEM.
 */
export function buildClientContext(material: ContextMaterial): SecureContext {
  return createSecureContext(contextOptions(material));
}
