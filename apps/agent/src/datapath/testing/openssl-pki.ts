// Test and probe support: a throwaway ECDSA P-256 PKI made with the openssl command line, so the
// datapath's tests exercise real certificates without depending on libs/pki. Not used at run time.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  key: string;
  cert: string;
}

export class OpensslPki {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'palisade-dp-pki-'));
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private newKey(name: string): string {
    this.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
    return readFileSync(join(this.dir, `${name}.key`), 'utf8');
  }

  /** A self-signed root CA; returns its PEM (the trust bundle) and key. */
  ca(name: string): Issued {
    const key = this.newKey(name);
    this.openssl([
      'req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.pem`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return { key, cert: readFileSync(join(this.dir, `${name}.pem`), 'utf8') };
  }

  /** A leaf signed by CA `caName` with one URI SAN (the SPIFFE id), usable as client and server. */
  leaf(name: string, caName: string, uri: string): Issued {
    const key = this.newKey(name);
    this.openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
    writeFileSync(
      join(this.dir, `${name}.ext`),
      `subjectAltName=URI:${uri}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n`,
    );
    this.openssl([
      'x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`,
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '1', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`,
    ]);
    return { key, cert: readFileSync(join(this.dir, `${name}.pem`), 'utf8') };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
