import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { after, describe, it } from 'node:test';
import { matchProcess, processMatches } from './match-process';
import { procEndpoints } from './proc-net';
import { findSocketOwner, ownerOfAcceptedSocket, socketOwnerStats, type SocketOwner } from './socket-owner';

const isRoot = process.getuid?.() === 0;

/** A loopback server in this process; each accepted socket is handed out once its first byte arrived. */
async function server(host: string): Promise<{ srv: Server; port: number; next: () => Promise<Socket> }> {
  const waiting: ((s: Socket) => void)[] = [];
  const ready: Socket[] = [];
  const srv = createServer((s) => {
    s.once('data', () => {
      const w = waiting.shift();
      if (w) {
        w(s);
      } else {
        ready.push(s);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, host, r));
  const next = (): Promise<Socket> => {
    const s = ready.shift();
    return s ? Promise.resolve(s) : new Promise((r) => waiting.push(r));
  };
  return { srv, port: (srv.address() as AddressInfo).port, next };
}

/** A child process that opens `count` connections to host:port, says hi on each, and waits. */
function client(host: string, port: number, count = 1, uid?: number): ChildProcess {
  const code = `const net=require('net');for(let i=0;i<${count};i++){const s=net.connect(${port},${JSON.stringify(host)},()=>s.write('hi'));s.on('error',()=>{})}setInterval(()=>{},1e3)`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore', ...(uid === undefined ? {} : { uid, gid: uid }) });
}

function cgroupOf(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean);
  const line = lines.find((l) => l.startsWith('0::')) ?? lines[0];
  return line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

describe('findSocketOwner', () => {
  const children: ChildProcess[] = [];
  const servers: Server[] = [];
  after(() => {
    for (const c of children) {
      c.kill('SIGKILL');
    }
    for (const s of servers) {
      s.close();
    }
  });

  it('spells endpoints the way /proc/net/tcp does, including IPv4-mapped in tcp6', () => {
    const e = procEndpoints('127.0.0.1', 8080);
    assert.equal(e.v4, '0100007F:1F90');
    assert.equal(e.v6, '0000000000000000FFFF00000100007F:1F90');
    assert.deepEqual(procEndpoints('::ffff:127.0.0.1', 8080), e);
    assert.equal(procEndpoints('::1', 1).v6, '00000000000000000000000001000000:0001');
  });

  it('finds the child process that owns the client end of a loopback connection', async () => {
    const { srv, port, next } = await server('127.0.0.1');
    servers.push(srv);
    const child = client('127.0.0.1', port);
    children.push(child);
    const s = await next();
    const owner = findSocketOwner(s.remoteAddress!, s.remotePort!, s.localAddress!, s.localPort!);
    assert.ok(owner, 'owner found');
    assert.equal(owner.pid, child.pid);
    assert.equal(owner.uid, process.getuid?.());
    assert.equal(owner.gid, process.getgid?.());
    assert.equal(owner.exe, realpathSync(process.execPath));
    assert.equal(owner.cgroup, cgroupOf(child.pid!));
  });

  it('handles IPv4-mapped peers of a dual-stack listener and a local-endpoint-only match', async () => {
    const { srv, port, next } = await server('::');
    servers.push(srv);
    const child = client('127.0.0.1', port);
    children.push(child);
    const s = await next();
    assert.match(s.remoteAddress!, /^::ffff:127\.0\.0\.1$/);
    assert.equal(ownerOfAcceptedSocket(s)?.pid, child.pid);
    // Transparent mode: the client's socket names the original destination, not our listener.
    assert.equal(findSocketOwner(s.remoteAddress!, s.remotePort!, '198.18.0.9', 7106)?.pid, child.pid);
  });

  it('searches the recent owner before scanning all of /proc again', async () => {
    const { srv, port, next } = await server('127.0.0.1');
    servers.push(srv);
    const child = client('127.0.0.1', port, 3);
    children.push(child);
    const socks = [await next(), await next(), await next()];
    ownerOfAcceptedSocket(socks[0]);
    const before = socketOwnerStats();
    assert.equal(ownerOfAcceptedSocket(socks[1])?.pid, child.pid);
    assert.equal(ownerOfAcceptedSocket(socks[2])?.pid, child.pid);
    const afterStats = socketOwnerStats();
    assert.equal(afterStats.fullScans, before.fullScans);
    assert.equal(afterStats.cacheHits + afterStats.recentHits - before.cacheHits - before.recentHits, 2);
  });

  it('returns null for a connection that does not exist', () => {
    assert.equal(findSocketOwner('127.0.0.1', 1, '127.0.0.1', 2), null);
  });

  it('reports the uid of a child running as another user, and matches rules by user, exe and cgroup', { skip: isRoot ? false : 'needs root to run a child as uid 65534' }, async () => {
    const { srv, port, next } = await server('127.0.0.1');
    servers.push(srv);
    const child = client('127.0.0.1', port, 1, 65534);
    children.push(child);
    const owner = ownerOfAcceptedSocket(await next());
    assert.ok(owner);
    assert.equal(owner.uid, 65534);
    assert.equal(owner.gid, 65534);
    const nobody = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === '65534')?.split(':')[0];
    const rules = [
      { id: 'root-only', user: 0 },
      { id: 'by-name', user: nobody ?? '65534', exe: `${dirname(realpathSync(process.execPath))}/*` },
    ];
    assert.equal(matchProcess(owner, rules)?.id, 'by-name');
    assert.equal(processMatches(owner, { cgroup: owner.cgroup }), true);
  });
});

describe('matchProcess', () => {
  const owner: SocketOwner = { pid: 1, uid: 1000, gid: 1000, exe: '/usr/bin/curl', cgroup: '/system.slice/app.service' };

  it('never matches an empty rule, and takes the first matching rule in order', () => {
    assert.equal(processMatches(owner, {}), false);
    const rules = [{ id: 'a', exe: '/usr/bin/wget' }, { id: 'b', user: 1000 }, { id: 'c', exe: '/usr/bin/*' }];
    assert.equal(matchProcess(owner, rules)?.id, 'b');
    assert.equal(matchProcess(owner, [{ id: 'x', user: 1000, exe: '/bin/sh' }]), null);
  });

  it('matches a cgroup and its descendants, not a sibling that shares a prefix', () => {
    assert.equal(processMatches(owner, { cgroup: '/system.slice' }), true);
    assert.equal(processMatches(owner, { cgroup: '/system.slice/app.service/' }), true);
    assert.equal(processMatches(owner, { cgroup: '/system.slice/app' }), false);
  });

  it('treats an unknown user name as no match and a numeric string as a uid', () => {
    assert.equal(processMatches(owner, { user: 'no-such-user-palisade' }), false);
    assert.equal(processMatches(owner, { user: '1000' }), true);
  });
});
