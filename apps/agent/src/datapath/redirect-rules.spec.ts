import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedirectRules, RedirectRulesError } from './redirect-rules';
import { OpensslPki } from './testing/openssl-pki';

const isRoot = process.getuid?.() === 0;
const AGENT_GID = 4242;

describe(RedirectRules.name, () => {
  it('rejects bad options with a code naming the field, before touching anything', () => {
    const bad = (o: Partial<ConstructorParameters<typeof RedirectRules>[0]>, code: string, field: string): void => {
      assert.throws(
        () => new RedirectRules({ inbound: [], outbound: [], excludeGid: 1, ...o }),
        (e: unknown) => e instanceof RedirectRulesError && e.code === code && e.field === field,
      );
    };
    bad({ inbound: [{ port: 0, listenerPort: 1 }] }, 'redirect_port_invalid', 'inbound[0].port');
    bad({ outbound: [{ ip: '10.0.0.1; rm -rf /', port: 1, listenerPort: 2 }] }, 'redirect_address_invalid', 'outbound[0].ip');
    bad({ outbound: [{ ip: '10.0.0.1', port: 1, listenerPort: 70000 }] }, 'redirect_port_invalid', 'outbound[0].listenerPort');
    bad({ excludeGid: -1 }, 'redirect_gid_invalid', 'excludeGid');
  });

  it('renders our own two chains, the agent group exempt before any outbound redirect', () => {
    const sut = new RedirectRules({
      inbound: [{ port: 8106, listenerPort: 15001 }],
      outbound: [{ ip: '198.18.0.10', port: 7106, listenerPort: 15002 }],
      excludeGid: AGENT_GID,
    });
    const text = sut.render();
    assert.match(text, /^-A PALISADE-IN -p tcp -m tcp --dport 8106 -j REDIRECT --to-ports 15001$/m);
    const exempt = text.indexOf(`--gid-owner ${AGENT_GID} -j RETURN`);
    const redirect = text.indexOf('-A PALISADE-OUT -d 198.18.0.10/32 -p tcp -m tcp --dport 7106 -j REDIRECT --to-ports 15002');
    assert.ok(exempt > 0 && redirect > exempt);
  });

  describe('in two network namespaces joined by a veth pair', { skip: isRoot ? false : 'transparent mode needs root (ip netns, iptables)' }, () => {
    const id = randomBytes(3).toString('hex');
    const nsClient = `palisade-dp-${id}-c`;
    const nsServer = `palisade-dp-${id}-s`;
    const octet = parseInt(id.slice(0, 2), 16);
    const clientIp = `198.18.${octet}.1`;
    const serverIp = `198.18.${octet}.2`;
    const fixture = join(__dirname, 'testing', 'transparent-fixture.js');
    const children: ChildProcess[] = [];
    let pki: OpensslPki;
    let server: ChildProcess;
    let client: ChildProcess;
    const sh = (...args: string[]): string => execFileSync(args[0], args.slice(1), { encoding: 'utf8' });
    const natRules = (ns: string): string => sh('ip', 'netns', 'exec', ns, 'iptables', '-w', '-t', 'nat', '-S');
    const hooks = (ns: string, chain: string): number => natRules(ns).split('\n').filter((l) => l.endsWith(`-j ${chain}`) && l.startsWith('-A ')).length;
    const rulesOf = (ns: string, o: { inbound?: boolean }): RedirectRules =>
      new RedirectRules({
        inbound: o.inbound ? [{ port: 8106, listenerPort: 15001 }] : [],
        outbound: o.inbound ? [] : [{ ip: serverIp, port: 8106, listenerPort: 15002 }],
        excludeGid: AGENT_GID,
        netns: ns,
      });

    function startFixture(ns: string, role: string, cfg: object): Promise<ChildProcess> {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fixture, role, JSON.stringify(cfg)], {
        gid: AGENT_GID,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      return new Promise((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
        child.once('exit', (code) => reject(new Error(`${role} fixture exited with ${code}`)));
      });
    }

    /** An unmodified client in the client namespace: connects to the service address, sends, half-closes. */
    function appClient(gid: number): string {
      const code = `const s=require('net').connect({host:'${serverIp}',port:8106,allowHalfOpen:true},()=>s.end('through the tunnel'));let d='';s.on('data',c=>d+=c);s.on('error',()=>{});s.on('close',()=>process.stdout.write(d))`;
      const out = execFileSync('ip', ['netns', 'exec', nsClient, process.execPath, '-e', code], { gid, encoding: 'utf8', timeout: 10_000 });
      return out;
    }

    before(async () => {
      pki = new OpensslPki();
      pki.ca('ca');
      pki.leaf('server', 'ca', 'spiffe://test.local/ns/a/pu/server');
      pki.leaf('client', 'ca', 'spiffe://test.local/ns/a/pu/client');
      sh('ip', 'netns', 'add', nsClient);
      sh('ip', 'netns', 'add', nsServer);
      sh('ip', 'link', 'add', `pdc${id}`, 'netns', nsClient, 'type', 'veth', 'peer', 'name', `pds${id}`, 'netns', nsServer);
      for (const [ns, dev, ip] of [[nsClient, `pdc${id}`, clientIp], [nsServer, `pds${id}`, serverIp]]) {
        sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
        sh('ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev);
        sh('ip', '-n', ns, 'link', 'set', dev, 'up');
      }
      server = await startFixture(nsServer, 'server', { pkiDir: pki.dir, gid: AGENT_GID, appPort: 8106, listenerPort: 15001 });
      client = await startFixture(nsClient, 'client', { pkiDir: pki.dir, gid: AGENT_GID, serviceIp: serverIp, servicePort: 8106, listenerPort: 15002 });
    });

    after(() => {
      for (const c of children) {
        c.kill('SIGKILL');
      }
      for (const ns of [nsClient, nsServer]) {
        try {
          sh('ip', 'netns', 'del', ns);
        } catch {
          // already gone
        }
      }
      pki?.dispose();
    });

    it('carries an unmodified client to an unmodified server over mTLS, both ends redirected', () => {
      assert.equal(appClient(0), 'through the tunnel');
    });

    it('leaves the agent group alone: a plaintext dial under it reaches the server side and is refused', () => {
      assert.equal(appClient(AGENT_GID), '');
    });

    it('installs idempotently: a second install keeps one hook per chain', async () => {
      await rulesOf(nsClient, {}).install();
      assert.equal(hooks(nsClient, 'PALISADE-OUT'), 1);
      assert.equal(hooks(nsClient, 'PALISADE-IN'), 1);
      assert.equal(appClient(0), 'through the tunnel');
    });

    it('removes its rules on SIGTERM', async () => {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
      assert.doesNotMatch(natRules(nsServer), /PALISADE/);
    });

    it('after a crash (SIGKILL) the next start repairs the rules, and remove() clears them', async () => {
      const exited = new Promise((r) => client.once('exit', r));
      client.kill('SIGKILL');
      await exited;
      assert.match(natRules(nsClient), /PALISADE-OUT/);
      const next = rulesOf(nsClient, {});
      await next.install();
      assert.equal(hooks(nsClient, 'PALISADE-OUT'), 1);
      await next.remove();
      assert.doesNotMatch(natRules(nsClient), /PALISADE/);
    });
  });
});
