import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { PkiError } from './errors';
import { pemBlocks, x509 } from './crypto';
import { fingerprint, readCertificate } from './read';
import { TAGS_OID } from './tags-extension';
import { craft, hierarchy, identity, leaf, openssl, tempDir, type Hierarchy } from './spec-helpers';

const code = (c: string) => (e: unknown) => e instanceof PkiError && e.code === c;

const URI = { type: 'url' as const, value: 'spiffe://palisade.test/ns/acme/pu/x' };

void describe(readCertificate.name, () => {
  let ca: Hierarchy;
  before(async () => {
    ca = await hierarchy();
  });

  void it('reads identity, sorted tags, serial, validity and names from PEM and from DER', async () => {
    const l = await leaf(ca.issuing, {
      identity: identity({ namespace: '/acme/prod/payments', kind: 'agent', id: 'a-1' }),
      tags: ['z=1', 'a=1'],
    });
    const sut = readCertificate(l.certPem);
    assert.deepEqual(sut.identity, {
      trustDomain: 'palisade.test',
      namespace: '/acme/prod/payments',
      kind: 'agent',
      id: 'a-1',
    });
    assert.deepEqual(sut.tags, ['a=1', 'z=1']);
    assert.equal(sut.serial, l.serial);
    assert.deepEqual([sut.notBefore, sut.notAfter], [l.notBefore, l.notAfter]);
    assert.match(sut.issuer, /CN=Palisade Issuing CA [0-9a-f]{8}/);
    assert.equal(sut.subject, 'O=palisade.test, OU=agent, CN=a-1');
    assert.deepEqual(readCertificate(pemBlocks(l.certPem, 'CERTIFICATE')[0]), sut);
  });

  void it('gives a CA certificate no identity and no tags', () => {
    const sut = readCertificate(ca.root.certPem);
    assert.equal(sut.identity, null);
    assert.deepEqual(sut.tags, []);
    assert.equal(sut.serial, ca.root.serial);
  });

  void it('refuses a malformed tags extension value', async () => {
    const bad: [string, number[]][] = [
      ['not a SEQUENCE', [0x04, 0x00]],
      ['an INTEGER element', [0x30, 0x03, 0x02, 0x01, 0x05]],
      ['a PrintableString element', [0x30, 0x03, 0x13, 0x01, 0x61]],
      ['non-minimal length', [0x30, 0x81, 0x03, 0x0c, 0x01, 0x61]],
      ['trailing bytes', [0x30, 0x03, 0x0c, 0x01, 0x61, 0x00]],
      ['element overruns', [0x30, 0x03, 0x0c, 0x05, 0x61]],
      ['invalid UTF-8', [0x30, 0x03, 0x0c, 0x01, 0xff]],
      ['unsorted', [0x30, 0x06, 0x0c, 0x01, 0x62, 0x0c, 0x01, 0x61]],
      ['duplicate', [0x30, 0x06, 0x0c, 0x01, 0x61, 0x0c, 0x01, 0x61]],
    ];
    for (const [why, bytes] of bad) {
      const pem = await craft(
        ca.issuing,
        [URI],
        [new x509.Extension(TAGS_OID, false, new Uint8Array(bytes))],
      );
      assert.throws(() => readCertificate(pem), code('extension_malformed'), why);
    }
    const ok = await craft(
      ca.issuing,
      [URI],
      [new x509.Extension(TAGS_OID, false, new Uint8Array([0x30, 0x03, 0x0c, 0x01, 0x61]))],
    );
    assert.deepEqual(readCertificate(ok).tags, ['a']);
  });

  void it('refuses a critical or repeated tags extension', async () => {
    const value = new Uint8Array([0x30, 0x00]);
    const critical = await craft(ca.issuing, [URI], [new x509.Extension(TAGS_OID, true, value)]);
    assert.throws(() => readCertificate(critical), code('extension_malformed'));
    // A critical unknown extension also makes openssl refuse the certificate: the profile keeps it non-critical.
    const tmp = tempDir();
    try {
      const res = openssl([
        'verify',
        '-partial_chain',
        '-CAfile',
        tmp.write('ca.pem', ca.issuing.certPem),
        tmp.write('c.pem', critical),
      ]);
      assert.match(res.output, /unhandled critical extension/);
      assert.notEqual(res.status, 0);
    } finally {
      tmp.cleanup();
    }
  });

  void it('refuses two URI SANs and URIs that are not Palisade SPIFFE IDs', async () => {
    const two = await craft(
      ca.issuing,
      [URI, { type: 'url', value: 'spiffe://palisade.test/ns/b/pu/y' }],
      [],
    );
    assert.throws(() => readCertificate(two), code('identity_malformed'));
    for (const value of [
      'https://palisade.test/ns/a/pu/x',
      'spiffe://palisade.test/pu/x',
      'spiffe://palisade.test/ns/a/robot/x',
      'spiffe://PT/ns/a/pu/x',
    ]) {
      const pem = await craft(ca.issuing, [{ type: 'url', value }], []);
      assert.throws(() => readCertificate(pem), code('identity_malformed'), value);
    }
  });

  void it('refuses what is not a certificate', () => {
    assert.throws(() => readCertificate('nothing here'), code('certificate_malformed'));
    assert.throws(
      () => readCertificate('-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n'),
      code('certificate_malformed'),
    );
  });
});

void describe(fingerprint.name, () => {
  void it('is the SHA-256 of the DER in lower-case hex, the digits openssl prints', async () => {
    const { root } = await hierarchy();
    const printed = openssl(['x509', '-noout', '-fingerprint', '-sha256'], root.certPem).output;
    const expected = printed
      .trim()
      .replace(/^sha256 Fingerprint=/i, '')
      .replace(/:/g, '')
      .toLowerCase();
    assert.match(expected, /^[0-9a-f]{64}$/);
    assert.equal(fingerprint(root.certPem), expected);
    assert.equal(fingerprint(pemBlocks(root.certPem, 'CERTIFICATE')[0]), expected);
    assert.equal(readCertificate(root.certPem).fingerprint256, expected);
  });
});
