import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createIssuingCa, createRootCa } from './ca';
import { PkiError } from './errors';
import { readCertificate } from './read';
import { generateKeyPair } from './keys';
import { TRUST_DOMAIN, hierarchy, openssl, tempDir } from './spec-helpers';

const code = (c: string) => (e: unknown) => e instanceof PkiError && e.code === c;

void describe(createRootCa.name, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  void it('creates a P-256 root with the profile openssl reports: CA pathlen 1, keyCertSign+cRLSign, key ids', async () => {
    const sut = await createRootCa({ trustDomain: TRUST_DOMAIN });
    const text = openssl(['x509', '-text', '-noout', '-in', tmp.write('root.pem', sut.certPem)]).output;
    assert.match(text, new RegExp(`Subject: CN = Palisade Root CA ${TRUST_DOMAIN.replace('.', '\\.')}\\n`));
    assert.match(text, /Issuer: CN = Palisade Root CA palisade\.test\n/);
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:1/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign/);
    assert.match(text, /NIST CURVE: P-256/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    const skid = /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(text)?.[1];
    const akid = /Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
    assert.ok(skid && skid === akid, 'self-signed root: AKID equals SKID');
    assert.equal(
      openssl(['verify', '-x509_strict', '-CAfile', tmp.dir + '/root.pem', tmp.dir + '/root.pem']).status,
      0,
    );
    assert.match(sut.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  void it('uses a random positive 16-byte serial, lower-case hex, equal to what openssl prints', async () => {
    const a = await createRootCa({ trustDomain: TRUST_DOMAIN });
    const b = await createRootCa({ trustDomain: TRUST_DOMAIN });
    assert.match(a.serial, /^(?!00)[0-7][0-9a-f]{31}$/);
    assert.notEqual(a.serial, b.serial);
    const printed = openssl(['x509', '-noout', '-serial', '-in', tmp.write('a.pem', a.certPem)]).output;
    assert.equal(printed.trim(), `serial=${a.serial.toUpperCase()}`);
    assert.equal(readCertificate(a.certPem).serial, a.serial);
  });

  void it('defaults to 10 years from now − 30 s and honours ttlDays and now', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const sut = await createRootCa({ trustDomain: TRUST_DOMAIN, now });
    const info = readCertificate(sut.certPem);
    assert.equal(info.notBefore.toISOString(), '2029-12-31T23:59:30.000Z');
    assert.equal(info.notAfter.toISOString(), '2039-12-30T00:00:00.000Z');
    assert.equal(sut.notAfter.getTime(), info.notAfter.getTime());
    const short = await createRootCa({ trustDomain: TRUST_DOMAIN, now, ttlDays: 1 });
    assert.equal(short.notAfter.toISOString(), '2030-01-02T00:00:00.000Z');
  });

  void it('refuses a malformed trust domain or ttl', async () => {
    await assert.rejects(createRootCa({ trustDomain: 'Upper.Case' }), code('trust_domain_malformed'));
    await assert.rejects(createRootCa({ trustDomain: '' }), code('trust_domain_malformed'));
    await assert.rejects(createRootCa({ trustDomain: 'a'.repeat(48) }), code('trust_domain_malformed'));
    await assert.rejects(createRootCa({ trustDomain: TRUST_DOMAIN, ttlDays: 0 }), code('ttl_invalid'));
    await assert.rejects(
      createRootCa({ trustDomain: TRUST_DOMAIN, ttlDays: Number.NaN }),
      code('ttl_invalid'),
    );
  });
});

void describe(createIssuingCa.name, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  void it('creates an issuing CA (pathlen 0, 1 year) that openssl verifies against the root', async () => {
    const { root, issuing: sut } = await hierarchy();
    const rootPem = tmp.write('root.pem', root.certPem);
    const issPem = tmp.write('issuing.pem', sut.certPem);
    const verify = openssl(['verify', '-x509_strict', '-CAfile', rootPem, issPem]);
    assert.equal(verify.output.trim(), `${issPem}: OK`);
    const text = openssl(['x509', '-text', '-noout', '-in', issPem]).output;
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign/);
    assert.match(text, /Issuer: CN = Palisade Root CA palisade\.test\n/);
    assert.match(
      text,
      new RegExp(`Subject: CN = Palisade Issuing CA ${sut.serial.slice(0, 8)}, O = palisade\\.test`),
    );
    const rootSkid = /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(
      openssl(['x509', '-text', '-noout', '-in', rootPem]).output,
    )?.[1];
    assert.match(text, new RegExp(`Authority Key Identifier: \\n\\s+(keyid:)?${rootSkid}`));
    const info = readCertificate(sut.certPem);
    assert.equal(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 1000), 365 * 86400 + 30);
  });

  void it('refuses to outlive the root, and refuses a root that is not valid now', async () => {
    const root = await createRootCa({ trustDomain: TRUST_DOMAIN, ttlDays: 30 });
    await assert.rejects(createIssuingCa(root), code('ttl_too_long'));
    await assert.rejects(
      createIssuingCa(root, { now: new Date(Date.now() + 31 * 86_400_000), ttlDays: 1 }),
      code('issuer_invalid'),
    );
  });

  void it('refuses CA material whose key does not belong to its certificate, or which is not a CA', async () => {
    const { root, issuing } = await hierarchy();
    const other = await generateKeyPair();
    await assert.rejects(
      createIssuingCa({ ...root, privateKeyPem: other.privateKeyPem }),
      (e: unknown) => code('issuer_invalid')(e) && (e as PkiError).field === 'root.privateKeyPem',
    );
    await assert.rejects(createIssuingCa({ ...root, certPem: 'nope' }), code('issuer_invalid'));
    await assert.rejects(createIssuingCa({ ...root, privateKeyPem: 'nope' }), code('key_malformed'));
    // pathlen 0: a CA below the issuing CA would make every chain through it invalid.
    await assert.rejects(
      createIssuingCa(issuing, { ttlDays: 1 }),
      (e: unknown) => code('issuer_invalid')(e) && /pathLen 0/.test((e as Error).message),
    );
  });
});
