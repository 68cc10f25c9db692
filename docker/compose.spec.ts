// Checks of the Docker lab that run without a Docker engine: docker-compose validates the file, the
// resolved configuration keeps the hardening the lab promises, HAProxy accepts its config, the agent
// configs parse with the agent's own parser, and the seed rewrite gives the lab's load balancer.
// Skipped with a message when a tool is not installed (docker-compose, haproxy).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { parseAgentConfig } from '../apps/agent/src/config/config';

const run = promisify(execFile);
// Compiled to dist/docker/compose.spec.js: the repository root is two levels up.
const ROOT = resolve(__dirname, '../..');
const file = (p: string) => resolve(ROOT, p);

async function available(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

interface ComposeService {
  image?: string;
  build?: { target?: string };
  cap_add?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { ipv4_address?: string; aliases?: string[] } | null>;
  volumes?: string[];
  user?: string;
  network_mode?: string;
}

describe('docker-compose.yml', async () => {
  const hasCompose = await available('docker-compose', ['version']);
  const skip = hasCompose ? false : 'docker-compose is not installed (apt-get install docker-compose)';

  it('is valid: docker-compose config -q exits 0 and prints nothing', { skip }, async () => {
    const { stdout, stderr } = await run('docker-compose', ['-f', file('docker-compose.yml'), 'config', '-q'], { cwd: ROOT });
    assert.equal(stdout, '');
    assert.equal(stderr, '');
  });

  it('resolves to the lab topology with its hardening', { skip }, async () => {
    const { stdout } = await run('docker-compose', ['-f', file('docker-compose.yml'), 'config'], { cwd: ROOT });
    const services = (parse(stdout) as { services: Record<string, ComposeService> }).services;
    assert.deepEqual(Object.keys(services).sort(), ['bootstrap', 'client', 'client-app', 'control-plane', 'lb', 'postgres', 'rogue', 'scenario', 'server', 'server-app']);

    for (const name of ['server', 'client']) {
      const s = services[name];
      assert.deepEqual(s.cap_add, ['NET_ADMIN'], name);
      assert.deepEqual(s.cap_drop, ['ALL'], name);
      assert.deepEqual(s.security_opt, ['no-new-privileges:true'], name);
      assert.equal(s.build?.target, 'agent-host', name);
      assert.ok(s.volumes?.some((v) => v.endsWith(':/etc/palisade/agent.yaml:ro')), `${name} mounts its agent.yaml`);
      assert.equal(s.depends_on?.bootstrap.condition, 'service_completed_successfully', name);
      assert.equal(s.user, '0:61106', `${name}: the agent runs in the group its redirect rules exempt`);
      const app = services[`${name}-app`];
      assert.equal(app.network_mode, `service:${name}`, `${name}-app shares the agent's network namespace`);
      assert.equal(app.user, 'node', `${name}-app runs outside the agent's group`);
      assert.deepEqual(app.cap_drop, ['ALL']);
      assert.equal(app.cap_add, undefined);
    }
    for (const name of ['control-plane', 'bootstrap', 'lb', 'rogue', 'scenario', 'server-app', 'client-app']) {
      assert.deepEqual(services[name].cap_drop, ['ALL'], name);
      assert.equal(services[name].cap_add, undefined, `${name} gets no capability`);
      assert.deepEqual(services[name].security_opt, ['no-new-privileges:true'], name);
    }
    assert.deepEqual(services.postgres.healthcheck?.test, ['CMD-SHELL', 'pg_isready -U palisade -d palisade -h 127.0.0.1']);
    assert.equal(services['control-plane'].depends_on?.postgres.condition, 'service_healthy');
    assert.match(services['control-plane'].environment?.DATABASE_URL ?? '', /^postgres:\/\/palisade:[^@]+@postgres:5432\/palisade$/);
    assert.match(services['control-plane'].command?.join(' ') ?? '', /exec node dist\/apps\/control-plane\/src\/main\.js$/);

    // The load balancer is where the client dials (alias lb, 198.18.1.10), and the only path to the server
    // besides the rogue's direct one: the client is not on the server's network.
    assert.deepEqual(services.lb.networks?.front, { ipv4_address: '198.18.1.10', aliases: ['lb'] });
    assert.equal(services.server.networks?.back?.ipv4_address, '198.18.2.20');
    assert.equal(services.client.networks?.back, undefined);
    assert.ok(services.rogue.networks?.front && services.rogue.networks?.back, 'rogue reaches the lb and the server');
  });
});

describe('docker/ lab files', () => {
  it('the Dockerfile builds from the repository on node:20-bookworm-slim with npm ci and tools/build.mjs', async () => {
    const text = await readFile(file('docker/Dockerfile'), 'utf8');
    assert.match(text, /^FROM node:20-bookworm-slim AS build$/m);
    assert.match(text, /^RUN npm ci /m);
    assert.match(text, /node tools\/build\.mjs/);
    for (const target of ['control-plane', 'agent-host', 'tools']) {
      assert.match(text, new RegExp(`^FROM runtime AS ${target}$`, 'm'), target);
    }
  });

  it('the agent hosts enroll with the shared token, then run with /etc/palisade/agent.yaml', async () => {
    const text = await readFile(file('docker/scripts/agent-host.sh'), 'utf8');
    assert.match(text, /agent="node \/opt\/palisade\/dist\/apps\/agent\/src\/main\.js"/);
    assert.match(text, /\$agent enroll "\$\(cat "\$token_file"\)" --state-dir "\$state"/);
    assert.match(text, /\$agent run -c \/etc\/palisade\/agent\.yaml/);
  });

  it('haproxy -c accepts docker/haproxy/haproxy.cfg, which is mode tcp from 7106 to the server on 8106', async (t) => {
    const cfg = await readFile(file('docker/haproxy/haproxy.cfg'), 'utf8');
    assert.match(cfg, /^\s+mode tcp$/m);
    assert.match(cfg, /^\s+bind :7106$/m);
    assert.match(cfg, /^\s+server server1 198\.18\.2\.20:8106$/m);
    if (!(await available('haproxy', ['-v']))) {
      t.skip('haproxy is not installed: config syntax not checked');
      return;
    }
    const { stdout } = await run('haproxy', ['-c', '-f', file('docker/haproxy/haproxy.cfg')]);
    assert.match(stdout, /Configuration file is valid/);
  });

  it("the agent configs parse with the agent's own parser: transparent, the seed's tcp:8106, the client PU", async () => {
    const server = parseAgentConfig(await readFile(file('docker/agent/server.yaml'), 'utf8'), 'server.yaml', null);
    assert.equal(server.mode, 'transparent');
    assert.deepEqual(server.hostServices.map((h) => [h.name, h.port, h.tags]), [['tcp:8106', 8106, ['app=server']]]);
    const client = parseAgentConfig(await readFile(file('docker/agent/client.yaml'), 'utf8'), 'client.yaml', null);
    assert.equal(client.mode, 'transparent');
    assert.deepEqual(client.processes, [{ name: 'lab-client', exe: '/usr/bin/socat', tags: ['app=client'] }]);
  });

  it("lab-seed.sh points the seed service at the lab's load balancer and changes nothing else", async () => {
    const seedPath = file('examples/seed-lb-service.yaml');
    const { stdout } = await run('sh', [file('docker/scripts/lab-seed.sh'), seedPath, 'lb', '198.18.1.10']);
    const seed = parse(await readFile(seedPath, 'utf8'));
    const lab = parse(stdout);
    assert.deepEqual(lab.data.services[0].hosts, ['lb']);
    assert.deepEqual(lab.data.services[0].IPs, ['198.18.1.10']);
    seed.data.services[0].hosts = ['lb'];
    seed.data.services[0].IPs = ['198.18.1.10'];
    assert.deepEqual(lab, seed);
  });
});
