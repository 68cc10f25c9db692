import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What enrollment established; written once by `enroll`, read by `run` and `status`. */
export interface EnrollmentRecord {
  agentId: string;
  namespace: string;
  controlPlaneUrl: string;
  caFingerprint: string;
  trustDomain: string;
  enrolledAt: string;
}

/** A processing unit's certificate as the agent keeps it (the key never leaves the state directory). */
export interface PuCredential {
  name: string;
  id: string;
  keyPem: string;
  certPem: string;
  notAfter: string;
}

/**
 * The agent's state directory: its key and certificate, the trust bundle, the processing units' keys and
 * certificates and the last applied rule set. Everything the agent needs to keep enforcing with the control
 * plane down (DESIGN.md §6, fail static). Writes are atomic (write to a temp file, fsync by rename) so a crash
 * never leaves a half-written certificate; private keys are mode 0600 and the directory 0700.
 */
export class StateStore {
  constructor(readonly dir: string) {}

  readonly paths = {
    key: join(this.dir, 'agent.key'),
    cert: join(this.dir, 'agent.crt'),
    bundle: join(this.dir, 'bundle.pem'),
    enrollment: join(this.dir, 'enrollment.json'),
    ruleSet: join(this.dir, 'ruleset.json'),
    pus: join(this.dir, 'pus'),
    status: join(this.dir, 'status.json'),
  };

  async init(): Promise<void> {
    await mkdir(this.paths.pus, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
  }

  isEnrolled(): boolean {
    return existsSync(this.paths.enrollment) && existsSync(this.paths.key) && existsSync(this.paths.cert);
  }

  async write(path: string, data: string, mode = 0o644): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, data, { mode });
    await chmod(tmp, mode);
    await rename(tmp, path);
  }

  async saveEnrollment(e: EnrollmentRecord, keyPem: string, certPem: string, bundle: string[]): Promise<void> {
    await this.init();
    await this.write(this.paths.key, keyPem, 0o600);
    await this.write(this.paths.cert, certPem);
    await this.write(this.paths.bundle, bundle.join(''));
    await this.write(this.paths.enrollment, JSON.stringify(e, null, 2) + '\n');
  }

  enrollment(): EnrollmentRecord {
    return JSON.parse(readFileSync(this.paths.enrollment, 'utf8')) as EnrollmentRecord;
  }

  async agentCredential(): Promise<{ keyPem: string; certPem: string }> {
    return { keyPem: await readFile(this.paths.key, 'utf8'), certPem: await readFile(this.paths.cert, 'utf8') };
  }

  async saveAgentCertificate(certPem: string): Promise<void> {
    await this.write(this.paths.cert, certPem);
  }

  async bundle(): Promise<string[]> {
    const text = await readFile(this.paths.bundle, 'utf8');
    return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  }

  async saveBundle(bundle: string[]): Promise<void> {
    await this.write(this.paths.bundle, bundle.map((p) => (p.endsWith('\n') ? p : p + '\n')).join(''));
  }

  private puFile(name: string, ext: string): string {
    return join(this.paths.pus, `${Buffer.from(name).toString('base64url')}.${ext}`);
  }

  async savePuKey(name: string, keyPem: string): Promise<void> {
    await this.write(this.puFile(name, 'key'), keyPem, 0o600);
  }

  async puKey(name: string): Promise<string | null> {
    return readFile(this.puFile(name, 'key'), 'utf8').catch(() => null);
  }

  async savePuCredential(c: PuCredential): Promise<void> {
    await this.write(this.puFile(c.name, 'key'), c.keyPem, 0o600);
    await this.write(this.puFile(c.name, 'json'), JSON.stringify({ name: c.name, id: c.id, certPem: c.certPem, notAfter: c.notAfter }));
  }

  async puCredential(name: string): Promise<PuCredential | null> {
    try {
      const meta = JSON.parse(await readFile(this.puFile(name, 'json'), 'utf8')) as Omit<PuCredential, 'keyPem'>;
      const keyPem = await readFile(this.puFile(name, 'key'), 'utf8');
      return { ...meta, keyPem };
    } catch {
      return null;
    }
  }

  async saveRuleSet(ruleSet: unknown): Promise<void> {
    await this.write(this.paths.ruleSet, JSON.stringify(ruleSet));
  }

  async ruleSet<T>(): Promise<T | null> {
    return readFile(this.paths.ruleSet, 'utf8')
      .then((t) => JSON.parse(t) as T)
      .catch(() => null);
  }

  async saveStatus(status: unknown): Promise<void> {
    await this.write(this.paths.status, JSON.stringify(status, null, 2));
  }
}
