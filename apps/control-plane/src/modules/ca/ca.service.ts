import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  type CaMaterial,
  createIssuingCa,
  createRootCa,
  fingerprint,
  type Identity,
  type IssuedLeaf,
  issueLeaf,
  type IssueLeafOptions,
  LEAF_MAX_TTL_SECONDS_DEFAULT,
  sealKey,
  unsealKey,
} from '@palisade/pki';
import { DataSource, type EntityManager, IsNull, MoreThan } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { type Caller } from '../../common/request-context';
import { ChangeService } from '../../database/change.service';
import { TransactionService } from '../../database/transaction.service';
import { AuditService } from '../audit/audit.service';
import { CertificateAuthorityEntity } from './certificate-authority.entity';

/** Injection token for the 32-byte key-encryption key. */
export const CA_KEK = Symbol('CA_KEK');
/** Advisory-lock key: the CA is created (and rotated) by one replica at a time. */
export const CA_LOCK = 7_270_002;

export interface CaSummary {
  root: { serial: string; fingerprint: string; notAfter: string };
  issuing: { id: string; serial: string; fingerprint: string; notAfter: string; active: boolean; trustedUntil: string | null }[];
}

/**
 * The installation's CA: a root and one active issuing CA, stored in `certificate_authorities` with
 * their private keys sealed under the KEK. The unsealed issuing key lives only in this process's memory.
 * A rotation is recorded as a change (kind `ca`), so every replica reloads and agents get the new bundle.
 */
@Injectable()
export class CaService implements OnModuleDestroy {
  private readonly log = new Logger(CaService.name);
  private issuerMaterial: CaMaterial | null = null;
  private rootPem = '';
  private bundle: string[] = [];
  private readonly bundleListeners = new Set<() => void>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionService,
    private readonly changes: ChangeService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CA_KEK) private readonly kek: Buffer,
  ) {}

  /** Creates the CA on first start (once across replicas) and loads it. Called by createApp before serving. */
  async init(): Promise<void> {
    await this.tx.run(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [CA_LOCK]);
      const root = await em.findOneBy(CertificateAuthorityEntity, { kind: 'root', active: true });
      if (root) {
        return;
      }
      const rootCa = await createRootCa({ trustDomain: this.config.trustDomain });
      await this.insert(em, 'root', rootCa);
      await this.insert(em, 'issuing', await createIssuingCa(rootCa, {}));
      this.log.log('created the root and issuing CA');
    });
    await this.reload();
    this.unsubscribe = this.changes.onChange((c) => {
      if (c.kind === 'ca') {
        this.reload().catch((e: Error) => this.log.error(`reloading the CA failed: ${e.message}`));
      }
    });
  }

  /** The active issuing CA (certificate and unsealed key). Never serialise it. */
  issuer(): CaMaterial {
    if (!this.issuerMaterial) {
      throw new Error('CA not initialised');
    }
    return this.issuerMaterial;
  }

  /** PEMs agents and peers trust: the root, then every issuing CA still within its trust window. */
  trustBundle(): string[] {
    return [...this.bundle];
  }

  rootCertPem(): string {
    return this.rootPem;
  }

  /** SHA-256 of the root certificate's DER, lower-case hex: what enrollment tokens pin. */
  rootFingerprint(): string {
    return fingerprint(this.rootPem);
  }

  /**
   * Issues a leaf from a CSR with the active issuing CA (see @palisade/pki issueLeaf for the checks). The
   * identity's trust domain defaults to the installation's (PALISADE_TRUST_DOMAIN).
   */
  issue(o: Omit<IssueLeafOptions, 'issuer' | 'identity'> & { identity: Omit<Identity, 'trustDomain'> & { trustDomain?: string } }): Promise<IssuedLeaf> {
    const identity: Identity = { ...o.identity, trustDomain: o.identity.trustDomain ?? this.config.trustDomain };
    return issueLeaf({ ...o, identity, issuer: this.issuer() });
  }

  /** Called whenever the trust bundle or issuer changes (the HTTPS server refreshes its context). */
  onBundleChange(cb: () => void): () => void {
    this.bundleListeners.add(cb);
    return () => this.bundleListeners.delete(cb);
  }

  /**
   * Starts a new issuing CA. The old one stops signing at once but stays in the trust bundle until the
   * last leaf it could have signed expires (now + the longest leaf TTL).
   */
  async rotate(caller: Caller): Promise<CaSummary> {
    await this.tx.run(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [CA_LOCK]);
      const root = await em.findOneByOrFail(CertificateAuthorityEntity, { kind: 'root', active: true });
      const rootCa: CaMaterial = { certPem: root.certPem, privateKeyPem: unsealKey(root.sealedKey, this.kek), serial: root.serial, notAfter: root.notAfter };
      const old = await em.findOneBy(CertificateAuthorityEntity, { kind: 'issuing', active: true });
      if (old) {
        const trustedUntil = new Date(Math.min(Date.now() + LEAF_MAX_TTL_SECONDS_DEFAULT * 1000 + 60_000, old.notAfter.getTime()));
        await em.update(CertificateAuthorityEntity, { id: old.id }, { active: false, trustedUntil });
      }
      const id = await this.insert(em, 'issuing', await createIssuingCa(rootCa, {}));
      await this.changes.record(em, { kind: 'ca', namespace: '/', objectId: id });
      await this.audit.record(em, caller, { action: 'rotate', kind: 'ca', namespace: '/', objectId: id, objectName: 'issuing-ca', before: old ? { serial: old.serial } : undefined, after: { id } });
    });
    await this.reload();
    return this.summary();
  }

  async summary(): Promise<CaSummary> {
    const rows = await this.dataSource.getRepository(CertificateAuthorityEntity).find({ order: { createTime: 'ASC' } });
    const root = rows.find((r) => r.kind === 'root' && r.active);
    if (!root) {
      throw new Error('CA not initialised');
    }
    return {
      root: { serial: root.serial, fingerprint: root.fingerprint, notAfter: root.notAfter.toISOString() },
      issuing: rows
        .filter((r) => r.kind === 'issuing')
        .map((r) => ({ id: r.id, serial: r.serial, fingerprint: r.fingerprint, notAfter: r.notAfter.toISOString(), active: r.active, trustedUntil: r.trustedUntil?.toISOString() ?? null })),
    };
  }

  private async reload(): Promise<void> {
    const repo = this.dataSource.getRepository(CertificateAuthorityEntity);
    const root = await repo.findOneByOrFail({ kind: 'root', active: true });
    const active = await repo.findOneByOrFail({ kind: 'issuing', active: true });
    const retired = await repo.find({ where: [{ kind: 'issuing', active: false, trustedUntil: MoreThan(new Date()) }, { kind: 'issuing', active: false, trustedUntil: IsNull() }], order: { createTime: 'ASC' } });
    this.issuerMaterial = { certPem: active.certPem, privateKeyPem: unsealKey(active.sealedKey, this.kek), serial: active.serial, notAfter: active.notAfter };
    this.rootPem = root.certPem;
    this.bundle = [root.certPem, active.certPem, ...retired.map((r) => r.certPem)];
    for (const cb of this.bundleListeners) {
      cb();
    }
  }

  private async insert(em: EntityManager, kind: 'root' | 'issuing', m: CaMaterial): Promise<string> {
    const id = randomUUID();
    await em.insert(CertificateAuthorityEntity, {
      id,
      kind,
      certPem: m.certPem,
      sealedKey: sealKey(m.privateKeyPem, this.kek),
      serial: m.serial,
      fingerprint: fingerprint(m.certPem),
      notAfter: m.notAfter,
      active: true,
      trustedUntil: null,
      createTime: new Date(),
    });
    return id;
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
