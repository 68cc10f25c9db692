// A real TLS 1.3 handshake on loopback with Palisade certificates on both sides — the proof that the profile
// (key usages, SANs, chain) is what node:tls (OpenSSL) accepts for mutual TLS.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as tls from 'node:tls';
import { type AddressInfo } from 'node:net';
import { readCertificate } from './read';
import { verifyChain } from './verify';
import { hierarchy, identity, leaf, type Hierarchy, type Leaf } from './spec-helpers';

function serve(server: Leaf, bundle: string[]) {
  return tls.createServer({
    key: server.privateKeyPem,
    cert: server.chainPem,
    ca: bundle,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
  });
}

async function listen(srv: tls.Server): Promise<number> {
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return (srv.address() as AddressInfo).port;
}

void describe('mutual TLS 1.3 with node:tls', () => {
  let ca: Hierarchy;
  let server: Leaf;
  before(async () => {
    ca = await hierarchy();
    server = await leaf(ca.issuing, {
      identity: identity({ kind: 'server', id: 'srv' }),
      ipAddresses: ['127.0.0.1'],
      tags: ['role=server'],
    });
  });

  void it(
    'completes a handshake where each side verifies the other against the bundle and reads its identity',
    { timeout: 10_000 },
    async () => {
      const client = await leaf(ca.issuing, {
        identity: identity({ id: 'client-pu' }),
        tags: ['app=client'],
      });
      const srv = serve(server, [ca.root.certPem]);
      const port = await listen(srv);
      try {
        const accepted = once(srv, 'secureConnection') as Promise<[tls.TLSSocket]>;
        const sock = tls.connect({
          host: '127.0.0.1',
          port,
          key: client.privateKeyPem,
          cert: client.chainPem,
          ca: [ca.root.certPem],
          minVersion: 'TLSv1.3',
        });
        await once(sock, 'secureConnect');
        const [peer] = await accepted;
        assert.equal(sock.getProtocol(), 'TLSv1.3');
        assert.equal(sock.authorized, true);
        assert.equal(peer.authorized, true);
        // The server reads the client's identity and tags from the certificate OpenSSL just verified …
        const seen = readCertificate(peer.getPeerCertificate().raw);
        assert.deepEqual(seen.identity, identity({ id: 'client-pu' }));
        assert.deepEqual(seen.tags, ['app=client']);
        // … and the client checks the server the same way, through verifyChain on the presented chain.
        const chain = sock.getPeerX509Certificate();
        assert.ok(chain);
        const verified = await verifyChain({
          chainPem: chain.toString() + ca.issuing.certPem,
          trustBundle: [ca.root.certPem],
        });
        assert.deepEqual(verified.identity, identity({ kind: 'server', id: 'srv' }));
        sock.end();
        peer.end();
      } finally {
        srv.close();
      }
    },
  );

  void it(
    'refuses a client whose certificate comes from a CA outside the bundle',
    { timeout: 10_000 },
    async () => {
      const foreign = await hierarchy();
      const intruder = await leaf(foreign.issuing);
      const srv = serve(server, [ca.root.certPem]);
      const port = await listen(srv);
      let accepted = false;
      srv.on('secureConnection', () => {
        accepted = true;
      });
      try {
        srv.on('secureConnection', (s: tls.TLSSocket) => s.write('accepted'));
        const refused = once(srv, 'tlsClientError');
        const sock = tls.connect({
          host: '127.0.0.1',
          port,
          key: intruder.privateKeyPem,
          cert: intruder.chainPem,
          ca: [ca.root.certPem],
          minVersion: 'TLSv1.3',
        });
        // TLS 1.3: the client finishes its half of the handshake before the server judges its certificate, so
        // the refusal shows as the server dropping the connection (node reports it as tlsClientError).
        let received = '';
        sock.on('data', (d: Buffer) => (received += d.toString()));
        sock.on('error', () => undefined);
        await refused;
        if (!sock.closed) {
          await once(sock, 'close');
        }
        assert.equal(accepted, false);
        assert.equal(received, '');
      } finally {
        srv.close();
      }
    },
  );
});
