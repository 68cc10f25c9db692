import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseAgentConfig } from './config';

const good = `
stateDir: /var/lib/palisade
mode: transparent
hostServices:
  - port: 8106
    tags: [app=server]
processes:
  - name: client-app
    user: 1234
    tags: [app=client]
services:
  - name: svc
    listenPort: 17106
`;

function refused(text: string): ConfigError {
  try {
    parseAgentConfig(text, 'agent.yaml', null);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('parseAgentConfig', () => {
  it('reads a transparent-mode config with defaults filled in', () => {
    const sut = parseAgentConfig(good, 'agent.yaml', null);
    assert.equal(sut.mode, 'transparent');
    assert.deepEqual(sut.hostServices, [
      { name: 'tcp:8106', port: 8106, tags: ['app=server'], listenPort: 0, target: { host: '127.0.0.1', port: 8106 } },
    ]);
    assert.deepEqual(sut.processes, [{ name: 'client-app', user: 1234, tags: ['app=client'] }]);
    assert.equal(sut.listenHost, '0.0.0.0');
    assert.equal(sut.graceSeconds, 0);
  });

  it('names the line and field of a port out of range', () => {
    const e = refused(good.replace('port: 8106', 'port: 70000'));
    assert.equal(e.line, 5);
    assert.equal(e.field, 'hostServices[0].port');
    assert.match(e.message, /^agent\.yaml:5: hostServices\[0\]\.port: expected a port number/);
  });

  it('names the line of a forged system tag', () => {
    const e = refused(good.replace('[app=client]', '[app=client, $identity=admin]'));
    assert.equal(e.line, 10);
    assert.equal(e.field, 'processes[0].tags[1]');
  });

  it('names an unknown setting and a YAML syntax error', () => {
    assert.equal(refused(good + 'colour: blue\n').field, 'colour');
    assert.equal(refused('mode: [explicit\n').field, null);
    assert.equal(refused('mode: teleport\nstateDir: /x\n').field, 'mode');
  });

  it('requires a listen port for each host service in explicit mode', () => {
    const e = refused(good.replace('mode: transparent', 'mode: explicit'));
    assert.equal(e.field, 'hostServices[0].listenPort');
  });

  it('requires a state directory from the file or the flag', () => {
    assert.equal(refused('mode: explicit\n').field, 'stateDir');
    assert.equal(parseAgentConfig('mode: explicit\n', 'a.yaml', '/tmp/s').stateDir, '/tmp/s');
  });
});
