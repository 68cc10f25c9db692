/**
 * Test certificates made with the real openssl CLI (not our own PKI code, so a bug there cannot hide a bug
 * here): a CA, a server certificate it signs for 127.0.0.1/localhost, and an unrelated second CA that a
 * client must not accept the server with.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsFixture {
  dir: string;
  caFile: string;
  caPem: string;
  /** A CA that did not sign the server's certificate. */
  otherCaFile: string;
  serverKeyPem: string;
  serverCertPem: string;
  cleanup(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Creates the fixture in a fresh temporary directory; `cleanup()` removes it. */
export async function createTlsFixture(): Promise<TlsFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-cli-tls-'));
  await openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=palisade-cli-test-ca'], dir);
  await openssl(['req', '-x509', ...EC, '-keyout', 'other.key', '-out', 'other.pem', '-days', '1', '-subj', '/CN=impostor-ca'], dir);
  await openssl(['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  await writeFile(
    join(dir, 'server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  await openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
      '-extfile', 'server.ext', '-out', 'server.pem'],
    dir,
  );
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    caPem: await readFile(join(dir, 'ca.pem'), 'utf8'),
    otherCaFile: join(dir, 'other.pem'),
    serverKeyPem: await readFile(join(dir, 'server.key'), 'utf8'),
    serverCertPem: await readFile(join(dir, 'server.pem'), 'utf8'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
