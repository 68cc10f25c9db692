import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createCsr, verifyCsr } from './csr';
import { PkiError } from './errors';
import { generateKeyPair } from './keys';
import { issueLeaf, type IssueLeafOptions } from './leaf';
import { readCertificate } from './read';
import { x509 } from './crypto';
import { TAGS_OID } from './tags-extension';
import { hierarchy, identity, leaf, openssl, tempDir, type Hierarchy } from './spec-helpers';

const code = (c: string, field?: string) => (e: unknown) =>
  e instanceof PkiError && e.code === c && (field === undefined || e.field === field);

void describe(issueLeaf.name, () => {
  const tmp = tempDir();
  let ca: Hierarchy;
  let csrPem: string;
  before(async () => {
    ca = await hierarchy();
    csrPem = await createCsr((await generateKeyPair()).privateKeyPem);
    tmp.write('root.pem', ca.root.certPem);
    tmp.write('issuing.pem', ca.issuing.certPem);
  });
  after(() => tmp.cleanup());
  const base = (over: Partial<IssueLeafOptions> = {}): IssueLeafOptions => ({
    issuer: ca.issuing,
    csrPem,
    identity: identity(),
    tags: ['b=2', 'a=1'],
    ttlSeconds: 3600,
    ...over,
  });

  void it('issues a leaf that openssl verifies (strict, as TLS client and server) through the issuing CA', async () => {
    const sut = await leaf(ca.issuing, {
      identity: identity({ kind: 'server', id: 'cp' }),
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const leafPem = tmp.write('leaf.pem', sut.certPem);
    for (const purpose of ['sslclient', 'sslserver']) {
      const res = openssl([
        'verify',
        '-x509_strict',
        '-purpose',
        purpose,
        '-CAfile',
        `${tmp.dir}/root.pem`,
        '-untrusted',
        `${tmp.dir}/issuing.pem`,
        leafPem,
      ]);
      assert.equal(res.output.trim(), `${leafPem}: OK`, purpose);
    }
    // Without the issuing CA openssl cannot build the path: the leaf really is signed by it, not the root.
    assert.notEqual(openssl(['verify', '-CAfile', `${tmp.dir}/root.pem`, leafPem]).status, 0);
    const chain = tmp.write('chain.pem', sut.chainPem);
    assert.equal(
      openssl(['verify', '-CAfile', `${tmp.dir}/root.pem`, '-untrusted', chain, leafPem]).status,
      0,
    );
  });

  void it('prints with openssl x509 -text: one URI SAN, key usages, CA:FALSE and the tags extension with each tag', async () => {
    const sut = await leaf(ca.issuing, {
      tags: ['env=prod', '$namespace=/acme/prod', 'app=payments', 'env=prod'],
    });
    const pem = tmp.write('pu.pem', sut.certPem);
    const text = openssl(['x509', '-text', '-noout', '-in', pem]).output;
    assert.match(
      text,
      /X509v3 Subject Alternative Name: \n\s+URI:spiffe:\/\/palisade\.test\/ns\/acme\/prod\/pu\/pu-1\n/,
    );
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    assert.match(
      text,
      /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication/,
    );
    assert.match(text, /Subject Key Identifier/);
    assert.match(text, /Authority Key Identifier/);
    assert.match(text, /Subject: O = palisade\.test, OU = pu, CN = pu-1/);
    const ext = /1\.3\.6\.1\.4\.1\.57264\.1\.1: \n\s+(.*)\n/.exec(text);
    assert.ok(ext, 'the tags extension is listed under its OID, not critical');
    for (const tag of ['$namespace=/acme/prod', 'app=payments', 'env=prod']) {
      assert.ok(ext[1].includes(tag), `${tag} in ${ext[1]}`);
    }
    // openssl's own DER parser decodes the value as a SEQUENCE of UTF8STRINGs, sorted and de-duplicated.
    const offset = new RegExp(`(\\d+):d=5.*OBJECT\\s+:${TAGS_OID.replace(/\./g, '\\.')}\\n\\s*(\\d+):`).exec(
      openssl(['asn1parse', '-in', pem]).output,
    );
    assert.ok(offset);
    const inner = openssl(['asn1parse', '-in', pem, '-strparse', offset[2]]).output;
    assert.deepEqual(
      [...inner.matchAll(/UTF8STRING\s+:(.*)/g)].map((m) => m[1]),
      ['$namespace=/acme/prod', 'app=payments', 'env=prod'],
    );
  });

  void it('sets notBefore now − 30 s and notAfter now + ttl, returns the chain and a 16-byte serial', async () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 123);
    const sut = await issueLeaf(base({ now, ttlSeconds: 300 }));
    const info = readCertificate(sut.certPem);
    assert.equal(info.notBefore.getTime(), now.getTime() - 123 - 30_000);
    assert.equal(info.notAfter.getTime(), now.getTime() - 123 + 300_000);
    assert.deepEqual([sut.notBefore, sut.notAfter], [info.notBefore, info.notAfter]);
    assert.equal(sut.serial, info.serial);
    assert.match(sut.serial, /^(?!00)[0-7][0-9a-f]{31}$/);
    assert.equal(sut.chainPem, sut.certPem + ca.issuing.certPem);
    assert.deepEqual(info.identity, identity());
    assert.deepEqual(info.tags, ['a=1', 'b=2']);
    const cert = new x509.X509Certificate(sut.certPem);
    const expectSkid = await x509.SubjectKeyIdentifierExtension.create(cert.publicKey);
    assert.equal(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId, expectSkid.keyId);
  });

  void it('puts DNS and IP SANs after the one URI SAN', async () => {
    const sut = await issueLeaf(
      base({
        dnsNames: ['LocalHost', 'cp.palisade.test'],
        ipAddresses: ['127.0.0.1', '::1', '2001:db8::a:1'],
      }),
    );
    const text = openssl(['x509', '-noout', '-ext', 'subjectAltName'], sut.certPem).output;
    assert.match(
      text,
      /URI:spiffe:\/\/palisade\.test\/ns\/acme\/prod\/pu\/pu-1, DNS:cp\.palisade\.test, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:2001:DB8:0:0:0:0:A:1, IP Address:0:0:0:0:0:0:0:1/,
    );
    assert.equal((text.match(/URI:/g) ?? []).length, 1);
  });

  void it('refuses a TTL above maxTtlSeconds (default 24 h) or past the issuer, and a TTL that is not a positive integer', async () => {
    await assert.rejects(issueLeaf(base({ ttlSeconds: 86_401 })), code('ttl_too_long', 'ttlSeconds'));
    await assert.rejects(
      issueLeaf(base({ ttlSeconds: 3601, maxTtlSeconds: 3600 })),
      code('ttl_too_long', 'ttlSeconds'),
    );
    await assert.rejects(
      issueLeaf(base({ ttlSeconds: 400 * 86_400, maxTtlSeconds: 500 * 86_400 })),
      code('ttl_too_long', 'ttlSeconds'),
    );
    for (const ttlSeconds of [0, -1, 1.5, Number.NaN, '60' as unknown as number]) {
      await assert.rejects(
        issueLeaf(base({ ttlSeconds })),
        code('ttl_invalid', 'ttlSeconds'),
        String(ttlSeconds),
      );
    }
    await assert.rejects(issueLeaf(base({ maxTtlSeconds: 0 })), code('ttl_invalid', 'maxTtlSeconds'));
  });

  void it('refuses a malformed identity, naming the field', async () => {
    const cases: [Partial<ReturnType<typeof identity>>, string][] = [
      [{ namespace: '/' }, 'identity.namespace'],
      [{ namespace: 'acme' }, 'identity.namespace'],
      [{ namespace: '/acme//prod' }, 'identity.namespace'],
      [{ namespace: '/acme/..' }, 'identity.namespace'],
      [{ kind: 'robot' as 'pu' }, 'identity.kind'],
      [{ id: 'a/b' }, 'identity.id'],
      [{ id: '' }, 'identity.id'],
    ];
    for (const [over, field] of cases) {
      await assert.rejects(
        issueLeaf(base({ identity: identity(over) })),
        code('identity_malformed', field),
        JSON.stringify(over),
      );
    }
    await assert.rejects(
      issueLeaf(base({ identity: identity({ trustDomain: 'Bad' }) })),
      code('trust_domain_malformed', 'identity.trustDomain'),
    );
    await assert.rejects(
      issueLeaf(base({ identity: identity({ trustDomain: 'other.test' }) })),
      code('trust_domain_mismatch', 'identity.trustDomain'),
    );
  });

  void it('refuses malformed tags and SANs', async () => {
    await assert.rejects(
      issueLeaf(base({ tags: 'a=1' as unknown as string[] })),
      code('tags_malformed', 'tags'),
    );
    await assert.rejects(issueLeaf(base({ tags: ['a=1', ''] })), code('tags_malformed', 'tags[1]'));
    await assert.rejects(issueLeaf(base({ tags: ['a=\n'] })), code('tags_malformed', 'tags[0]'));
    await assert.rejects(issueLeaf(base({ dnsNames: ['bad_name'] })), code('san_malformed', 'dnsNames[0]'));
    await assert.rejects(
      issueLeaf(base({ ipAddresses: ['127.0.0.256'] })),
      code('san_malformed', 'ipAddresses[0]'),
    );
    await assert.rejects(
      issueLeaf(base({ ipAddresses: ['1::2::3'] })),
      code('san_malformed', 'ipAddresses[0]'),
    );
  });

  void it('refuses a CSR that fails verification and an issuer that is not a CA', async () => {
    const res = openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-384',
      '-nodes',
      '-keyout',
      `${tmp.dir}/k.pem`,
      '-subj',
      '/CN=x',
    ]);
    const p384 = res.output.slice(res.output.indexOf('-----BEGIN CERTIFICATE REQUEST-----'));
    await assert.rejects(issueLeaf(base({ csrPem: p384 })), code('key_type_unsupported', 'csrPem'));
    await assert.rejects(issueLeaf(base({ csrPem: 'x' })), code('csr_malformed', 'csrPem'));
    // A request verifyCsr checked is accepted as `csr`; a look-alike object is not, nor both fields at once.
    const kp = await generateKeyPair();
    const pem = await createCsr(kp.privateKeyPem);
    const verified = await verifyCsr(pem);
    const issued = await issueLeaf(base({ csrPem: undefined, csr: verified }));
    assert.equal(new X509Certificate(issued.certPem).publicKey.export({ format: 'pem', type: 'spki' }), kp.publicKeyPem, 'it certifies the verified key');
    const forged = { spki: verified.spki, publicKeyPem: verified.publicKeyPem };
    await assert.rejects(issueLeaf(base({ csrPem: undefined, csr: forged })), code('csr_malformed', 'csr'));
    await assert.rejects(issueLeaf(base({ csrPem: pem, csr: verified })), code('csr_malformed', 'csr'));
    const l = await leaf(ca.issuing);
    await assert.rejects(
      issueLeaf(
        base({
          issuer: {
            certPem: l.certPem,
            privateKeyPem: l.privateKeyPem,
            serial: l.serial,
            notAfter: l.notAfter,
          },
        }),
      ),
      code('issuer_invalid'),
    );
    await assert.rejects(
      issueLeaf(base({ now: new Date(Date.now() + 400 * 86_400_000) })),
      code('issuer_invalid'),
    );
  });
});
