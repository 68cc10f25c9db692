// Chain verification for Palisade identities. Node's TLS stack (OpenSSL) already verifies signatures during
// the handshake; this is the one predicate that also says *who* the peer is and applies what OpenSSL does not
// know about: our deny list and our identity profile. Modelled on Go's crypto/x509 Verify and ghostunnel:
// build the path from the leaf up, trust is membership of the bundle, then check every certificate on it.
import { PkiError } from './errors';
import { normalizeSerial, x509 } from './crypto';
import { resolveNow } from './ca';
import { type Identity } from './identity';
import { identityOf, parseCertificate, tagsOf } from './read';
import { pemBlocks } from './crypto';

/** Longest path we build (leaf, issuing CA, root, with room for one cross-signed CA during a rotation). */
const MAX_PATH = 5;

export interface VerifiedPeer {
  identity: Identity;
  tags: string[];
  serial: string;
  notAfter: Date;
}

function parseAll(pems: readonly string[], field: string, offset = 0): x509.X509Certificate[] {
  const out: x509.X509Certificate[] = [];
  pems.forEach((pem, j) => {
    const i = j + offset;
    if (typeof pem !== 'string') {
      throw new PkiError('chain_malformed', `${field}[${i}] must be a PEM string`, `${field}[${i}]`);
    }
    const blocks = pemBlocks(pem, 'CERTIFICATE');
    if (blocks.length === 0) {
      throw new PkiError('chain_malformed', `${field}[${i}] holds no PEM CERTIFICATE`, `${field}[${i}]`);
    }
    for (const der of blocks) {
      try {
        out.push(new x509.X509Certificate(der));
      } catch {
        throw new PkiError(
          'chain_malformed',
          `${field}[${i}] holds a malformed certificate`,
          `${field}[${i}]`,
        );
      }
    }
  });
  return out;
}

// The bundle is the same on every connection an agent verifies; parsing a certificate with @peculiar/x509
// costs milliseconds, so parsed bundle certificates are kept by their PEM text (bounded).
const bundleCache = new Map<string, x509.X509Certificate[]>();
const BUNDLE_CACHE_MAX = 64;

function parseBundle(pems: readonly string[]): x509.X509Certificate[] {
  return pems.flatMap((pem, i) => {
    const hit = typeof pem === 'string' ? bundleCache.get(pem) : undefined;
    if (hit) {
      return hit;
    }
    const certs = parseAll([pem], 'trustBundle', i);
    if (bundleCache.size >= BUNDLE_CACHE_MAX) {
      bundleCache.delete(bundleCache.keys().next().value as string);
    }
    bundleCache.set(pem, certs);
    return certs;
  });
}

function isCa(c: x509.X509Certificate): boolean {
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  const ku = c.getExtension(x509.KeyUsagesExtension);
  return !!bc?.ca && (!ku || (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0);
}

function sameKeyId(child: x509.X509Certificate, parent: x509.X509Certificate): boolean {
  const akid = child.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  const skid = parent.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  return !akid || !skid || akid.toLowerCase() === skid.toLowerCase();
}

/** Does `parent` issue `child`: names and key ids match, parent is a CA, and the signature verifies. */
async function issues(parent: x509.X509Certificate, child: x509.X509Certificate): Promise<boolean> {
  if (
    !isCa(parent) ||
    !sameKeyId(child, parent) ||
    !Buffer.from(child.issuerName.toArrayBuffer()).equals(Buffer.from(parent.subjectName.toArrayBuffer()))
  ) {
    return false;
  }
  try {
    return await child.verify({ publicKey: parent.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

function isSelfIssued(c: x509.X509Certificate): boolean {
  return Buffer.from(c.issuerName.toArrayBuffer()).equals(Buffer.from(c.subjectName.toArrayBuffer()));
}

/**
 * Verifies a certificate chain (`chainPem`: PEM, the leaf first, then any intermediates) against a trust
 * bundle of CA certificates (issuing CAs and roots — several of each during a CA rotation, so leaves of the
 * old and the new issuing CA both verify). The path is built upward from the leaf; a certificate of the bundle
 * is trusted, and the path continues through the bundle while a bundle CA issued the last one (so revoking or
 * expiring a root also cuts off what it signed). Then, for every certificate on the path: signature by the
 * next, CA flag and keyCertSign and pathLen for issuers, CA:false for the leaf (`chain_untrusted`); serial not
 * in `denyList` (`certificate_revoked` — the leaf's or any CA's); `now` (default: the current time) inside its
 * validity (`certificate_expired`, `not_yet_valid`). The leaf must carry a Palisade identity
 * (`identity_malformed`) and a well-formed tags extension (`extension_malformed`). Input that does not parse
 * is `chain_malformed`. Returns the leaf's identity, tags, serial and notAfter.
 */
export async function verifyChain(o: {
  chainPem: string;
  trustBundle: string[];
  denyList?: Iterable<string>;
  now?: Date;
}): Promise<VerifiedPeer> {
  const now = resolveNow(o?.now);
  if (typeof o.chainPem !== 'string') {
    throw new PkiError('chain_malformed', 'chainPem must be a PEM string', 'chainPem');
  }
  if (!Array.isArray(o.trustBundle)) {
    throw new PkiError('chain_malformed', 'trustBundle must be an array of PEM strings', 'trustBundle');
  }
  const [leaf, ...intermediates] = parseAll([o.chainPem], 'chainPem');
  if (!leaf) {
    throw new PkiError('chain_malformed', 'chainPem holds no certificate', 'chainPem');
  }
  const bundle = parseBundle(o.trustBundle);
  const denied = new Set<string>();
  for (const s of o.denyList ?? []) {
    denied.add(normalizeSerial(String(s)));
  }
  if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new PkiError('chain_untrusted', 'chainPem[0] is a CA certificate, not a leaf', 'chainPem');
  }

  // Path building: prefer a bundle CA at every step; fall back to the presented intermediates.
  const path: x509.X509Certificate[] = [leaf];
  let anchored = false;
  while (path.length < MAX_PATH) {
    const child = path[path.length - 1];
    if (anchored && isSelfIssued(child)) {
      break;
    }
    let parent: x509.X509Certificate | undefined;
    for (const c of bundle) {
      if (!path.includes(c) && (await issues(c, child))) {
        parent = c;
        break;
      }
    }
    if (parent) {
      anchored = true;
    } else if (!anchored) {
      for (const c of intermediates) {
        if (!path.includes(c) && (await issues(c, child))) {
          parent = c;
          break;
        }
      }
    }
    if (!parent) {
      break;
    }
    path.push(parent);
  }
  if (!anchored) {
    throw new PkiError('chain_untrusted', 'chainPem does not chain to a CA of the trust bundle', 'chainPem');
  }
  // pathLen: a CA at path[i] has i − 1 CA certificates below it (the leaf does not count).
  for (let i = 1; i < path.length; i++) {
    const pathLength = path[i].getExtension(x509.BasicConstraintsExtension)?.pathLength;
    if (pathLength !== undefined && i - 1 > pathLength) {
      throw new PkiError(
        'chain_untrusted',
        `a CA on the path (${path[i].subject}) exceeds its pathLen ${pathLength}`,
        'chainPem',
      );
    }
  }
  for (const c of path) {
    const serial = normalizeSerial(c.serialNumber);
    if (denied.has(serial)) {
      throw new PkiError(
        'certificate_revoked',
        `certificate ${serial} (${c.subject}) is on the deny list`,
        'chainPem',
      );
    }
  }
  for (const c of path) {
    if (now > c.notAfter) {
      throw new PkiError(
        'certificate_expired',
        `certificate ${normalizeSerial(c.serialNumber)} (${c.subject}) expired at ${c.notAfter.toISOString()}`,
        'chainPem',
      );
    }
    if (now < c.notBefore) {
      throw new PkiError(
        'not_yet_valid',
        `certificate ${normalizeSerial(c.serialNumber)} (${c.subject}) is valid from ${c.notBefore.toISOString()}`,
        'chainPem',
      );
    }
  }
  const identity = identityOf(leaf, 'chainPem');
  if (!identity) {
    throw new PkiError('identity_malformed', 'chainPem[0] carries no spiffe:// URI SAN', 'chainPem');
  }
  return {
    identity,
    tags: tagsOf(leaf, 'chainPem'),
    serial: normalizeSerial(leaf.serialNumber),
    notAfter: leaf.notAfter,
  };
}

export { parseCertificate };
