import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PkiError } from './errors';
import { generateKeyPair } from './keys';
import { SEAL_HEADER, sealKey, unsealKey } from './seal';

const code = (c: string) => (e: unknown) => e instanceof PkiError && e.code === c;

void describe(sealKey.name, () => {
  void it('round-trips a private key; the envelope is versioned text that never contains the key', async () => {
    const { privateKeyPem } = await generateKeyPair();
    const kek = randomBytes(32);
    const sut = sealKey(privateKeyPem, kek);
    assert.match(sut, /^palisade-seal:v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/);
    assert.ok(sut.startsWith(`${SEAL_HEADER}:`));
    assert.ok(!sut.includes('PRIVATE KEY'));
    assert.equal(unsealKey(sut, kek), privateKeyPem);
    assert.notEqual(sealKey(privateKeyPem, kek), sut, 'a fresh nonce each time');
  });

  void it('refuses a kek that is not 32 bytes and input that is not a PEM private key', async () => {
    const { privateKeyPem, publicKeyPem } = await generateKeyPair();
    assert.throws(() => sealKey(privateKeyPem, randomBytes(16)), code('seal_failed'));
    assert.throws(() => sealKey(publicKeyPem, randomBytes(32)), code('seal_failed'));
  });
});

void describe(unsealKey.name, () => {
  void it('refuses a wrong kek, any changed character, and malformed or other-version envelopes', async () => {
    const { privateKeyPem } = await generateKeyPair();
    const kek = randomBytes(32);
    const sealed = sealKey(privateKeyPem, kek);
    assert.throws(() => unsealKey(sealed, randomBytes(32)), code('unseal_failed'));
    assert.throws(() => unsealKey(sealed, kek.subarray(0, 31)), code('unseal_failed'));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Change every character after the header in turn: nonce, ciphertext and tag are all authenticated.
    for (let i = SEAL_HEADER.length + 1; i < sealed.length; i++) {
      if (sealed[i] === ':') {
        continue;
      }
      const other = alphabet[(alphabet.indexOf(sealed[i]) + 1) % alphabet.length];
      const tampered = sealed.slice(0, i) + other + sealed.slice(i + 1);
      assert.throws(() => unsealKey(tampered, kek), code('unseal_failed'), `position ${i}`);
    }
    for (const bad of [
      '',
      'palisade-seal:v1',
      sealed.replace(':v1:', ':v2:'),
      `${sealed}:x`,
      sealed.replace(/:[^:]+$/, ':'),
    ]) {
      assert.throws(() => unsealKey(bad, kek), code('unseal_failed'), bad);
    }
  });
});
