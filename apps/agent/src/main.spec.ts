import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAIN = join(__dirname, 'main.js');

async function agent(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, PALISADE_AGENT_STATE: '' } });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('palisade-agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-agent-main-'));

  it('run: a bad configuration stops start-up with one line naming the file, the line and the field', async () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, `stateDir: ${dir}\nmode: explicit\nhostServices:\n  - port: 8106\n    listenPort: 99999\n`);
    const r = await agent('run', '-c', cfg);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `palisade-agent: bad configuration: ${cfg}:5: hostServices[0].listenPort: expected a port number in 1..65535\n`);
  });

  it('run: refuses to start without an enrollment, saying how to enroll', async () => {
    const cfg = join(dir, 'good.yaml');
    writeFileSync(cfg, `stateDir: ${dir}\nmode: explicit\n`);
    const r = await agent('run', '-c', cfg);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /holds no enrollment: run palisade-agent enroll <token> --state-dir /);
  });

  it('status: says "not enrolled" for an empty state directory', async () => {
    const r = await agent('status', '--state-dir', dir);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `not enrolled (${dir})\n`);
  });

  it('enroll: a malformed token is one line and a non-zero exit, and nothing is written', async () => {
    const r = await agent('enroll', 'not-a-token', '--state-dir', join(dir, 'e'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^palisade-agent: enroll failed \(token_malformed\): enrollment token is malformed: it must start with palisade-enroll\.v1\.\n$/);
    assert.equal(existsSync(join(dir, 'e')), false);
  });
});
