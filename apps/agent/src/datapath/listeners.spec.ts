import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { InboundListener } from './inbound-listener';
import { OutboundListener } from './outbound-listener';
import { closed, connectTo, echoServer, exchange, readBytes, replyAfterEndServer, until } from './testing/harness';
import { OpensslPki, type Issued } from './testing/openssl-pki';
import { FlowTable } from './tunnel';
import { uriSanOf, type FlowDecision, type FlowRecord } from './types';

const SERVER_URI = 'spiffe://test.local/ns/a/pu/server';
const CLIENT_URI = 'spiffe://test.local/ns/a/pu/client';
const allow: FlowDecision = { allow: true, policyId: 'p1', policyName: 'allow-all', reason: 'policy' };

describe('datapath listeners', () => {
  let pki: OpensslPki;
  let ca: Issued;
  let server: Issued;
  let server2: Issued;
  let client: Issued;
  let rogueClient: Issued;
  let rogueServer: Issued;
  const servers: Server[] = [];
  const closers: (() => Promise<void>)[] = [];

  before(() => {
    pki = new OpensslPki();
    ca = pki.ca('ca');
    pki.ca('other-ca');
    server = pki.leaf('server', 'ca', SERVER_URI);
    server2 = pki.leaf('server2', 'ca', SERVER_URI);
    client = pki.leaf('client', 'ca', CLIENT_URI);
    rogueClient = pki.leaf('rogue-client', 'other-ca', CLIENT_URI);
    rogueServer = pki.leaf('rogue-server', 'other-ca', SERVER_URI);
  });

  after(async () => {
    for (const c of closers) {
      await c();
    }
    for (const s of servers) {
      s.close();
    }
    pki.dispose();
  });

  interface PairOptions {
    appPort: number;
    authorize?: (uri: string | null, serial: string) => FlowDecision;
    verifyServer?: (cert: PeerCertificate) => FlowDecision;
    identify?: () => { puId: string } | null;
    serverMaterial?: Issued;
    flows?: FlowTable;
  }

  async function pair(o: PairOptions) {
    const records: FlowRecord[] = [];
    const flows = o.flows ?? new FlowTable({ onFlowEnd: (r) => records.push(r) });
    const inbound = new InboundListener({
      host: '127.0.0.1',
      port: 0,
      target: { host: '127.0.0.1', port: o.appPort },
      material: { ...(o.serverMaterial ?? server), ca: ca.cert },
      authorize: (peer) => (o.authorize ?? (() => allow))(uriSanOf(peer.certificate), peer.certificate.serialNumber),
      flows,
    });
    const inPort = await inbound.listen();
    const outbound = new OutboundListener({
      host: '127.0.0.1',
      port: 0,
      upstream: { host: '127.0.0.1', port: inPort },
      identify: o.identify ?? (() => ({ puId: 'client-pu' })),
      authorizeOutgoing: () => allow,
      verifyServer: o.verifyServer ?? ((cert) => ({ allow: uriSanOf(cert) === SERVER_URI, reason: 'service-selects' })),
      flows,
    });
    outbound.setClientContext('client-pu', { ...client, ca: ca.cert });
    const outPort = await outbound.listen();
    closers.push(() => outbound.close(), () => inbound.close());
    return { inbound, outbound, inPort, outPort, records, flows };
  }

  function tlsClient(port: number, material: Issued | null, session?: Buffer, onSession?: (t: Buffer) => void): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: ca.cert,
        ...(material ?? {}),
        session,
        minVersion: 'TLSv1.3',
        checkServerIdentity: () => undefined,
      });
      if (onSession) {
        s.on('session', onSession);
      }
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    });
  }

  it('carries data both ways and reports the flow with its byte counts', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const sut = await pair({ appPort: echo.port });
    const got = await exchange(await connectTo(sut.outPort), 'hello palisade');
    assert.equal(got.data.toString(), 'hello palisade');
    await until(() => sut.records.filter((r) => r.verdict === 'Accept').length === 2);
    const inRec = sut.records.find((r) => r.direction === 'inbound');
    assert.ok(inRec);
    assert.equal(inRec.source.identity, CLIENT_URI);
    assert.equal(inRec.bytesUp, 14);
    assert.equal(inRec.bytesDown, 14);
    assert.equal(inRec.policyName, 'allow-all');
    assert.equal(inRec.closeCause, 'completed');
    const outRec = sut.records.find((r) => r.direction === 'outbound');
    assert.equal(outRec?.destination.identity, SERVER_URI);
    assert.equal(outRec?.source.identity, 'client-pu');
  });

  it('half-close: the client ends its side and the server reply still arrives', async () => {
    const app = await replyAfterEndServer();
    servers.push(app.server);
    const sut = await pair({ appPort: app.port });
    const got = await exchange(await connectTo(sut.outPort), Buffer.alloc(70_000, 1));
    assert.equal(got.data.toString(), 'received 70000 bytes after your FIN');
    assert.equal(got.ended, true);
  });

  it('carries a 4 MiB transfer intact in both directions', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const sut = await pair({ appPort: echo.port });
    const payload = randomBytes(4 * 1024 * 1024);
    const got = await exchange(await connectTo(sut.outPort), payload);
    assert.equal(got.data.length, payload.length);
    assert.equal(createHash('sha256').update(got.data).digest('hex'), createHash('sha256').update(payload).digest('hex'));
  });

  it('refuses a plaintext client on the inbound port and counts it', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const sut = await pair({ appPort: echo.port });
    const s = await connectTo(sut.inPort);
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed(s);
    await until(() => sut.inbound.stats.refused.tls_handshake_failed === 1);
    assert.equal(echo.connections(), 0);
    const rec = sut.records.find((r) => r.verdict === 'Reject');
    assert.equal(rec?.refusal, 'tls_handshake_failed');
  });

  it('refuses a client without a certificate and one from another CA', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const sut = await pair({ appPort: echo.port });
    const noCert = await tlsClient(sut.inPort, null).catch(() => null);
    if (noCert) {
      await closed(noCert);
    }
    const rogue = await tlsClient(sut.inPort, rogueClient).catch(() => null);
    if (rogue) {
      const r = await closed(rogue);
      assert.equal(r.data.length, 0);
    }
    await until(() => sut.inbound.stats.refused.no_client_certificate === 1 && sut.inbound.stats.refused.certificate_untrusted === 1);
    assert.equal(echo.connections(), 0);
    assert.equal(sut.inbound.stats.accepted, 0);
  });

  it('refuses a peer authorize() rejects, counting denylisted apart from policy rejects', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    let answer: FlowDecision = { allow: false, policyId: 'p9', policyName: 'deny', reason: 'policy' };
    const sut = await pair({ appPort: echo.port, authorize: () => answer });
    const first = await exchange(await connectTo(sut.outPort), 'x');
    assert.equal(first.data.length, 0);
    answer = { allow: false, reason: 'denylisted' };
    await exchange(await connectTo(sut.outPort), 'x');
    await until(() => sut.inbound.stats.refused.policy_reject === 1 && sut.inbound.stats.refused.denylisted === 1);
    assert.equal(echo.connections(), 0);
    const rec = sut.records.find((r) => r.direction === 'inbound' && r.refusal === 'policy_reject');
    assert.equal(rec?.policyName, 'deny');
    assert.equal(rec?.source.identity, CLIENT_URI);
  });

  it('outbound refuses an unknown client, a server from another CA and a server verifyServer rejects', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const unknown = await pair({ appPort: echo.port, identify: () => null });
    await closed(await connectTo(unknown.outPort));
    await until(() => unknown.outbound.stats.refused.unknown_client === 1);

    const rogue = await pair({ appPort: echo.port, serverMaterial: rogueServer });
    await closed(await connectTo(rogue.outPort));
    await until(() => rogue.outbound.stats.refused.server_certificate_untrusted === 1);

    const wrong = await pair({ appPort: echo.port, verifyServer: () => ({ allow: false, reason: 'not selected' }) });
    await closed(await connectTo(wrong.outPort));
    await until(() => wrong.outbound.stats.refused.server_identity_rejected === 1);
    assert.equal(echo.connections(), 0);
  });

  it('closeFlows() closes an open flow the predicate selects, and only that one', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const sut = await pair({ appPort: echo.port });
    const a = await connectTo(sut.outPort);
    a.write('ping');
    await readBytes(a, 4);
    await until(() => sut.flows.open === 2);
    const aClosed = closed(a);
    const n = sut.inbound.closeFlows((f) => f.source.identity === CLIENT_URI);
    assert.equal(n, 1);
    await aClosed;
    await until(() => sut.records.some((r) => r.direction === 'inbound' && r.closeCause === 'closed_by_agent'));
    assert.equal(sut.inbound.closeFlows(() => true), 0);
  });

  it('refuses flows beyond the concurrent-flow cap and counts them', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const outboundTable = new FlowTable({ maxFlows: 1 });
    const sut = await pair({ appPort: echo.port });
    // A second outbound listener with its own table of one flow, in front of the same inbound listener.
    const capped = new OutboundListener({
      host: '127.0.0.1',
      port: 0,
      upstream: { host: '127.0.0.1', port: sut.inPort },
      identify: () => ({ puId: 'client-pu' }),
      authorizeOutgoing: () => allow,
      verifyServer: () => allow,
      flows: outboundTable,
    });
    capped.setClientContext('client-pu', { ...client, ca: ca.cert });
    const port = await capped.listen();
    closers.push(() => capped.close());
    const first = await connectTo(port);
    first.write('one');
    await readBytes(first, 3);
    const second = await closed(await connectTo(port));
    assert.equal(second.data.length, 0);
    assert.equal(capped.stats.refused.flow_cap, 1);
    first.write('still here');
    assert.equal((await readBytes(first, 10)).toString(), 'still here');
    first.destroy();
  });

  it('updateContext() serves the new certificate to new flows without dropping an open one', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const serials: string[] = [];
    const sut = await pair({
      appPort: echo.port,
      verifyServer: (cert) => {
        serials.push(cert.serialNumber);
        return allow;
      },
    });
    const open = await connectTo(sut.outPort);
    open.write('before');
    await readBytes(open, 6);
    sut.inbound.updateContext({ ...server2, ca: ca.cert });
    const fresh = await exchange(await connectTo(sut.outPort), 'after');
    assert.equal(fresh.data.toString(), 'after');
    open.write('still open');
    assert.equal((await readBytes(open, 10)).toString(), 'still open');
    assert.equal(serials.length, 2);
    assert.notEqual(serials[0], serials[1]);
    open.destroy();
  });

  it('resumes TLS 1.3 sessions, and stops resuming them after a ticket-key rotation', async () => {
    const echo = await echoServer();
    servers.push(echo.server);
    const sut = await pair({ appPort: echo.port });
    const sessionOf = async (session?: Buffer): Promise<{ reused: boolean; session: Buffer | undefined }> => {
      // A full handshake brings new tickets; a resumed one may not, so keep the ticket we came with.
      let latest = session;
      const s = await tlsClient(sut.inPort, client, session, (t) => (latest = t));
      s.write('x');
      await readBytes(s, 1);
      const reused = s.isSessionReused();
      s.destroy();
      return { reused, session: latest };
    };
    const first = await sessionOf();
    assert.equal(first.reused, false);
    const second = await sessionOf(first.session);
    assert.equal(second.reused, true);
    sut.inbound.rotateTicketKeys();
    const third = await sessionOf(second.session);
    assert.equal(third.reused, false);
  });
});
