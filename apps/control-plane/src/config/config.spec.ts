import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config';

describe(loadConfig.name, () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.listenHost, '127.0.0.1');
    assert.equal(c.listenPort, 8443);
    assert.match(c.dataDir, /\.palisade$/);
    assert.equal(c.databaseUrl, null);
    assert.equal(c.kek, null);
    assert.equal(c.trustDomain, 'palisade.local');
    assert.deepEqual(c.serverNames, []);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.publicUrl, null);
  });

  it('parses every variable', () => {
    const kek = Buffer.alloc(32, 7).toString('base64');
    const c = loadConfig({
      PALISADE_LISTEN: '[::1]:0',
      DATABASE_URL: 'postgres://u@db:5432/x',
      PALISADE_KEK: kek,
      PALISADE_TRUST_DOMAIN: 'Acme.Example',
      PALISADE_SERVER_NAMES: 'cp.example, 10.0.0.1 ,',
      PALISADE_LOG_LEVEL: 'DEBUG',
      PALISADE_ADMIN_TOKEN: 'x'.repeat(20),
      PALISADE_PUBLIC_URL: 'https://cp.example:8443/',
    });
    assert.equal(c.publicUrl, 'https://cp.example:8443');
    assert.deepEqual([c.listenHost, c.listenPort], ['::1', 0]);
    assert.equal(c.kek?.length, 32);
    assert.equal(c.trustDomain, 'acme.example');
    assert.deepEqual(c.serverNames, ['cp.example', '10.0.0.1']);
    assert.equal(c.logLevel, 'debug');
  });

  const bad: [string, string][] = [
    ['PALISADE_LISTEN', '8443'],
    ['PALISADE_LISTEN', '127.0.0.1:70000'],
    ['PALISADE_KEK', 'c2hvcnQ='],
    ['PALISADE_KEK', '!!!not base64!!!'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['PALISADE_TRUST_DOMAIN', 'bad domain'],
    ['PALISADE_SERVER_NAMES', 'ok.example,bad name'],
    ['PALISADE_LOG_LEVEL', 'loud'],
    ['PALISADE_ADMIN_TOKEN', 'short'],
    ['PALISADE_PUBLIC_URL', 'http://cp.example:8443'],
    ['PALISADE_PUBLIC_URL', 'https://cp.example/api'],
    ['PALISADE_PUBLIC_URL', 'cp.example'],
  ];
  for (const [name, value] of bad) {
    it(`refuses ${name}=${JSON.stringify(value)} naming the variable`, () => {
      assert.throws(() => loadConfig({ [name]: value }), (e: unknown) => e instanceof ConfigError && e.variable === name && e.message.startsWith(`${name}: `));
    });
  }
});
