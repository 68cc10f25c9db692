import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createIssuingCa, createRootCa, type CaMaterial } from './ca';
import { PkiError } from './errors';
import { verifyChain } from './verify';
import { craft, hierarchy, identity, leaf, type Hierarchy } from './spec-helpers';

const code = (c: string) => (e: unknown) => e instanceof PkiError && e.code === c;

void describe(verifyChain.name, () => {
  let ca: Hierarchy;
  let rotated: CaMaterial;
  let foreign: Hierarchy;
  before(async () => {
    ca = await hierarchy();
    rotated = await createIssuingCa(ca.root);
    foreign = await hierarchy();
  });

  void it('verifies leaf + issuing CA against the root and returns identity, tags, serial, notAfter', async () => {
    const l = await leaf(ca.issuing, { tags: ['b=1', 'a=1'] });
    const sut = await verifyChain({ chainPem: l.chainPem, trustBundle: [ca.root.certPem] });
    assert.deepEqual(sut, {
      identity: identity(),
      tags: ['a=1', 'b=1'],
      serial: l.serial,
      notAfter: l.notAfter,
    });
  });

  void it('verifies a bare leaf when its issuing CA is in the bundle', async () => {
    const l = await leaf(ca.issuing);
    assert.equal(
      (await verifyChain({ chainPem: l.certPem, trustBundle: [ca.issuing.certPem] })).serial,
      l.serial,
    );
    await assert.rejects(
      verifyChain({ chainPem: l.certPem, trustBundle: [ca.root.certPem] }),
      code('chain_untrusted'),
    );
  });

  void it('CA rotation: with old and new issuing CAs in the bundle, leaves of both verify; a foreign CA leaf does not', async () => {
    const bundle = [ca.issuing.certPem, rotated.certPem];
    const oldLeaf = await leaf(ca.issuing);
    const newLeaf = await leaf(rotated);
    assert.equal(
      (await verifyChain({ chainPem: oldLeaf.chainPem, trustBundle: bundle })).serial,
      oldLeaf.serial,
    );
    assert.equal(
      (await verifyChain({ chainPem: newLeaf.chainPem, trustBundle: bundle })).serial,
      newLeaf.serial,
    );
    const stranger = await leaf(foreign.issuing);
    await assert.rejects(
      verifyChain({ chainPem: stranger.chainPem, trustBundle: bundle }),
      code('chain_untrusted'),
    );
    await assert.rejects(
      verifyChain({ chainPem: stranger.chainPem, trustBundle: [ca.root.certPem] }),
      code('chain_untrusted'),
    );
    // Both roots in the bundle (a root rotation): each side verifies again.
    const both = [ca.root.certPem, foreign.root.certPem];
    assert.ok(await verifyChain({ chainPem: stranger.chainPem, trustBundle: both }));
    assert.ok(await verifyChain({ chainPem: newLeaf.chainPem, trustBundle: both }));
  });

  void it('refuses an impostor CA with the trusted issuing CA name but another key', async () => {
    // Same subject name as a trusted CA: only the signature tells them apart.
    const impostorRoot = await createRootCa({ trustDomain: 'palisade.test' });
    const l = await leaf(await createIssuingCa(impostorRoot));
    await assert.rejects(
      verifyChain({ chainPem: l.chainPem, trustBundle: [ca.root.certPem] }),
      code('chain_untrusted'),
    );
  });

  void it('refuses a deny-listed leaf serial, and leaves of a deny-listed issuing CA or root', async () => {
    const l = await leaf(ca.issuing);
    const bundle = [ca.root.certPem, ca.issuing.certPem];
    await assert.rejects(
      verifyChain({ chainPem: l.chainPem, trustBundle: bundle, denyList: [l.serial] }),
      code('certificate_revoked'),
    );
    await assert.rejects(
      verifyChain({ chainPem: l.chainPem, trustBundle: bundle, denyList: new Set([l.serial.toUpperCase()]) }),
      code('certificate_revoked'),
    );
    await assert.rejects(
      verifyChain({ chainPem: l.chainPem, trustBundle: bundle, denyList: [ca.issuing.serial] }),
      code('certificate_revoked'),
    );
    await assert.rejects(
      verifyChain({ chainPem: l.chainPem, trustBundle: bundle, denyList: [ca.root.serial] }),
      code('certificate_revoked'),
    );
    assert.ok(await verifyChain({ chainPem: l.chainPem, trustBundle: bundle, denyList: [rotated.serial] }));
  });

  void it('refuses an expired leaf and a leaf not yet valid (at the given now)', async () => {
    const l = await leaf(ca.issuing, { ttlSeconds: 300 });
    const bundle = [ca.root.certPem];
    assert.ok(
      await verifyChain({ chainPem: l.chainPem, trustBundle: bundle, now: new Date(l.notAfter.getTime()) }),
    );
    await assert.rejects(
      verifyChain({ chainPem: l.chainPem, trustBundle: bundle, now: new Date(l.notAfter.getTime() + 1000) }),
      code('certificate_expired'),
    );
    await assert.rejects(
      verifyChain({ chainPem: l.chainPem, trustBundle: bundle, now: new Date(l.notBefore.getTime() - 1000) }),
      code('not_yet_valid'),
    );
  });

  void it('refuses a chain whose issuing CA expired, though the leaf itself is within its window', async () => {
    const shortCa = await createIssuingCa(ca.root, { ttlDays: 1 });
    // Our issueLeaf never lets a leaf outlive its CA, so a hand-made one does: valid for 10 days.
    const now = Date.now();
    const pem = await craft(shortCa, [{ type: 'url', value: 'spiffe://palisade.test/ns/acme/pu/x' }], [], {
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 10 * 86_400_000),
    });
    const chainPem = pem + shortCa.certPem;
    assert.ok(await verifyChain({ chainPem, trustBundle: [ca.root.certPem] }));
    await assert.rejects(
      verifyChain({
        chainPem,
        trustBundle: [ca.root.certPem],
        now: new Date(shortCa.notAfter.getTime() + 1000),
      }),
      (e: unknown) => code('certificate_expired')(e) && (e as Error).message.includes(shortCa.serial),
    );
  });

  void it('refuses a CA certificate presented as the leaf, and malformed input', async () => {
    await assert.rejects(
      verifyChain({ chainPem: ca.issuing.certPem, trustBundle: [ca.root.certPem] }),
      code('chain_untrusted'),
    );
    await assert.rejects(
      verifyChain({ chainPem: '', trustBundle: [ca.root.certPem] }),
      code('chain_malformed'),
    );
    await assert.rejects(
      verifyChain({ chainPem: 'junk', trustBundle: [ca.root.certPem] }),
      code('chain_malformed'),
    );
    const l = await leaf(ca.issuing);
    await assert.rejects(
      verifyChain({ chainPem: l.chainPem, trustBundle: ['junk'] }),
      (e: unknown) => code('chain_malformed')(e) && (e as PkiError).field === 'trustBundle[0]',
    );
    await assert.rejects(verifyChain({ chainPem: l.chainPem, trustBundle: [] }), code('chain_untrusted'));
  });
});
