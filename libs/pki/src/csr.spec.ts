import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { createCsr, verifyCsr } from './csr';
import { EC_P256, SIGNING_ALG, importSigningKey, pemBlocks, subtle, x509 } from './crypto';
import { PkiError } from './errors';
import { generateKeyPair } from './keys';
import { openssl, tempDir } from './spec-helpers';

const code = (c: string) => (e: unknown) => e instanceof PkiError && e.code === c;

void describe(createCsr.name, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  void it('makes a CSR that openssl req -verify accepts, carrying the key pair public key', async () => {
    const kp = await generateKeyPair();
    assert.match(kp.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const sut = await createCsr(kp.privateKeyPem, 'agent-7');
    const res = openssl(['req', '-verify', '-noout', '-subject', '-in', tmp.write('csr.pem', sut)]);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, /verify OK/);
    assert.match(res.output, /subject=CN = agent-7/);
    assert.equal((await verifyCsr(sut)).publicKeyPem, kp.publicKeyPem);
  });

  void it('refuses a non-P-256 key and a bad common name', async () => {
    const key = tmp.write(
      'p384.key',
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']).output,
    );
    await assert.rejects(createCsr(openssl(['pkey', '-in', key]).output), code('key_type_unsupported'));
    const kp = await generateKeyPair();
    await assert.rejects(createCsr(kp.privateKeyPem, 'a,b=c'), code('csr_malformed'));
    await assert.rejects(createCsr('not a key'), code('key_malformed'));
  });
});

void describe(verifyCsr.name, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  void it('refuses a CSR whose public key is not the one that signed it', async () => {
    const signer = await generateKeyPair();
    const other = await generateKeyPair();
    const otherSpki = pemBlocks(other.publicKeyPem, 'PUBLIC KEY')[0];
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=swapped',
      keys: {
        privateKey: await importSigningKey(signer.privateKeyPem, 'k'),
        publicKey: await subtle.importKey('spki', otherSpki, EC_P256, true, ['verify']),
      },
      signingAlgorithm: SIGNING_ALG,
    });
    const pem = csr.toString('pem');
    // OpenSSL 3.0 exits 0 here but says so; it agrees the CSR is bad.
    const judged = openssl(['req', '-verify', '-noout', '-in', tmp.write('swapped.csr', pem)]).output;
    assert.match(judged, /did not match|verify failure/);
    assert.doesNotMatch(judged, /verify OK/);
    await assert.rejects(verifyCsr(pem), code('csr_signature_invalid'));
  });

  void it('refuses a CSR with a flipped signature byte', async () => {
    const kp = await generateKeyPair();
    const der = pemBlocks(await createCsr(kp.privateKeyPem), 'CERTIFICATE REQUEST')[0];
    der[der.length - 5] ^= 0x01; // inside the ECDSA-Sig-Value's s INTEGER
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(verifyCsr(pem), code('csr_signature_invalid'));
  });

  void it('refuses CSRs for RSA, P-384 and Ed25519 keys made by openssl, though their signatures are valid', async () => {
    for (const newkey of [
      ['-newkey', 'rsa:2048'],
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      ['-newkey', 'ed25519'],
    ]) {
      const res = openssl([
        'req',
        '-new',
        ...newkey,
        '-nodes',
        '-keyout',
        `${tmp.dir}/k.pem`,
        '-subj',
        '/CN=x',
      ]);
      assert.equal(res.status, 0, res.output);
      const csrPem = res.output.slice(res.output.indexOf('-----BEGIN CERTIFICATE REQUEST-----'));
      assert.match(
        openssl(['req', '-verify', '-noout'], csrPem).output,
        /verify OK/,
        'openssl itself accepts it',
      );
      await assert.rejects(verifyCsr(csrPem), code('key_type_unsupported'), newkey.join(' '));
    }
  });

  void it('accepts a P-256 CSR made by openssl (SHA-256) and returns its key', async () => {
    const res = openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${tmp.dir}/k.pem`,
      '-subj',
      '/CN=x',
    ]);
    const csrPem = res.output.slice(res.output.indexOf('-----BEGIN CERTIFICATE REQUEST-----'));
    const { publicKeyPem } = await verifyCsr(csrPem);
    assert.equal(createPublicKey(publicKeyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  void it('accepts a P-256 CSR whose key is a compressed point (the DER decoder path) and returns its key', async () => {
    const key = tmp.write('p256.pem', openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).output);
    const compressed = tmp.write('p256c.pem', openssl(['ec', '-in', key, '-conv_form', 'compressed']).output);
    const csrPem = openssl(['req', '-new', '-key', compressed, '-subj', '/CN=x']).output;
    const der = pemBlocks(csrPem, 'CERTIFICATE REQUEST')[0];
    assert.ok(der.includes(Buffer.from('032200', 'hex')), 'the request carries a compressed point (a 33-byte BIT STRING)');
    const { publicKeyPem } = await verifyCsr(csrPem);
    const expected = openssl(['pkey', '-in', key, '-pubout']).output;
    assert.equal(createPublicKey(publicKeyPem).export({ format: 'jwk' }).x, createPublicKey(expected).export({ format: 'jwk' }).x);
  });

  void it('refuses a P-256 CSR whose point is not on the curve (key check before the signature)', async () => {
    const kp = await generateKeyPair();
    const der = pemBlocks(await createCsr(kp.privateKeyPem), 'CERTIFICATE REQUEST')[0];
    const at = der.indexOf(Buffer.from('03420004', 'hex'));
    assert.ok(at > 0, 'the uncompressed point is in the request');
    der[at + 4 + 63] ^= 0x01; // the last byte of y: the point leaves the curve
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(verifyCsr(pem), code('key_type_unsupported'));
  });

  void it('refuses what is not one PEM certificate request', async () => {
    const kp = await generateKeyPair();
    const csr = await createCsr(kp.privateKeyPem);
    for (const bad of [
      '',
      'garbage',
      csr + csr,
      csr.replace('CERTIFICATE REQUEST', 'CERTIFICATE').replace('CERTIFICATE REQUEST', 'CERTIFICATE'),
      '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n',
    ]) {
      await assert.rejects(
        verifyCsr(bad),
        (e: unknown) => code('csr_malformed')(e) && (e as PkiError).field === 'csrPem',
      );
    }
    await assert.rejects(verifyCsr(42 as unknown as string), code('csr_malformed'));
  });
});
