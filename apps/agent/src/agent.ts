import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import { createCsr, generateKeyPair, parseSpiffeId, readCertificate } from '@palisade/pki';
import { decide, type RuleSet, type ServiceDef } from '@palisade/policy';
import type { DeclaredPu, ServerMessage } from '@palisade/protocol';
import { AGENT_VERSION, CSR_TIMEOUT_MS, FLOW_REPORT_INTERVAL_MS, RENEW_AT_FRACTION, RENEW_JITTER_FRACTION } from './defaults';
import type { AgentConfig } from './config/config';
import { type StateStore, type PuCredential } from './certs/state-store';
import { ControlChannel } from './control-channel/channel';
import { FlowAggregator } from './flows/reporter';
import { AgentMetrics } from './metrics/metrics';
import { InboundListener, OutboundListener, FlowTable, type ClientIdentity, type FlowInfo, type FlowRecord } from './datapath';
import { isAllowedInbound, isAllowedOutbound, isExpectedServer, peerIdentity } from './decisions';
import { ProcessResolver } from './identity-resolver';
import { Redirector } from './redirector';

export type Log = (event: string, fields?: Record<string, unknown>) => void;

interface PendingCsr {
  name: string;
  subject: 'agent' | 'pu';
  keyPem: string;
  sentAt: number;
}

interface OutboundEntry {
  service: ServiceDef;
  key: string;
  listener: OutboundListener;
  upstream: { host: string; port: number };
}

/**
 * The running agent: it keeps the control channel, the credentials and the datapath in step.
 *
 * - On start it loads what the state directory holds (certificates, the last rule set) and enforces that at once,
 *   before the control plane answers — fail static: a restart while the control plane is down comes back enforcing.
 * - A rule set from the control plane is applied whole: listeners for new services are opened, gone ones closed,
 *   open flows the new rules no longer allow are closed (after graceSeconds), then it is saved and acked.
 * - Certificates are requested with CSRs over the channel (keys are generated here and never leave the host) and
 *   renewed at half life with jitter; new contexts apply to new connections, open flows are not touched.
 */
export class Agent {
  private rs: RuleSet | null = null;
  private deny = new Set<string>();
  private readonly creds = new Map<string, PuCredential>();
  private readonly pending = new Map<string, PendingCsr>();
  private readonly inbound = new Map<string, InboundListener>();
  private readonly outbound = new Map<string, OutboundEntry>();
  private readonly flows = new FlowTable({ onFlowEnd: (r) => this.onFlowEnd(r) });
  private readonly aggregator = new FlowAggregator();
  readonly metrics = new AgentMetrics();
  private readonly declared: DeclaredPu[];
  private readonly resolver: ProcessResolver;
  private readonly redirector: Redirector | null;
  private channel: ControlChannel | null = null;
  private agentCred: { keyPem: string; certPem: string; notAfter: Date } | null = null;
  private bundle: string[] = [];
  private timers: NodeJS.Timeout[] = [];
  private applying: Promise<void> = Promise.resolve();
  private stopped = false;
  counts = { applied: 0, rejectedRuleSets: 0 };

  constructor(
    readonly config: AgentConfig,
    private readonly store: StateStore,
    private readonly log: Log,
  ) {
    this.declared = [
      ...config.hostServices.map((h) => ({ name: h.name, type: 'HostService' as const, associatedTags: h.tags, ports: [`tcp/${h.port}`] })),
      ...config.processes.map((p) => ({ name: p.name, type: 'LinuxProcess' as const, associatedTags: p.tags, ports: [] })),
      { name: config.host.name, type: 'Host' as const, associatedTags: config.host.tags, ports: [] },
    ];
    this.resolver = new ProcessResolver(config.processes, config.host.name);
    this.redirector = config.mode === 'transparent' ? new Redirector(log, config.agentGid) : null;
  }

  get ruleSet(): RuleSet | null {
    return this.rs;
  }

  async start(): Promise<void> {
    const e = this.store.enrollment();
    const a = await this.store.agentCredential();
    this.agentCred = { ...a, notAfter: readCertificate(a.certPem).notAfter };
    this.bundle = await this.store.bundle();
    for (const d of this.declared) {
      const c = await this.store.puCredential(d.name);
      if (c) {
        this.creds.set(d.name, c);
      }
    }
    if (this.redirector) {
      await this.redirector.cleanupStale();
    }
    const saved = await this.store.ruleSet<RuleSet>();
    if (saved && saved.agentId === e.agentId) {
      await this.apply(saved, false);
      this.log('ruleset_restored', { revision: saved.revision, hash: saved.hash });
    }
    if (this.config.metricsListen) {
      const port = await this.metrics.listen(this.config.metricsListen);
      this.log('metrics_listening', { port });
    }
    this.channel = new ControlChannel({
      url: this.config.controlPlaneUrl ?? e.controlPlaneUrl,
      credentials: () => ({ keyPem: this.agentCred!.keyPem, certPem: this.agentCred!.certPem, bundle: this.bundle }),
      hello: () => ({
        type: 'hello',
        protocol: 1,
        agentId: e.agentId,
        appliedRevision: this.rs?.revision ?? null,
        appliedHash: this.rs?.hash ?? null,
        version: AGENT_VERSION,
        capabilities: [this.config.mode, 'flows', 'renewal'],
        hostname: hostname(),
        pus: this.declared,
      }),
      log: this.log,
    });
    this.channel.on('connected', () => {
      this.metrics.connected.set(1);
      this.log('control_channel_connected');
    });
    this.channel.on('disconnected', () => this.metrics.connected.set(0));
    this.channel.on('message', (m: ServerMessage) => this.onMessage(m));
    this.channel.start();
    this.every(FLOW_REPORT_INTERVAL_MS, () => this.flushFlows());
    this.every(5_000, () => this.maintainCertificates());
    this.every(2_000, () => void this.writeStatus());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) {
      clearInterval(t);
    }
    this.flushFlows();
    this.channel?.stop();
    await this.redirector?.remove();
    await Promise.allSettled([...this.inbound.values()].map((l) => l.close()));
    await Promise.allSettled([...this.outbound.values()].map((o) => o.listener.close()));
    await this.metrics.close();
    await this.writeStatus();
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'ruleset':
        this.applying = this.applying.then(() => this.apply(m.ruleSet as RuleSet, true)).catch((err: Error) => {
          this.counts.rejectedRuleSets++;
          const rs = m.ruleSet as Partial<RuleSet> | null;
          this.log('ruleset_rejected', { error: err.message });
          this.channel?.send({ type: 'nack', revision: Number(rs?.revision ?? 0), hash: String(rs?.hash ?? ''), reason: err.message.slice(0, 1000) });
        });
        return;
      case 'cert':
        void this.onCert(m).catch((err: Error) => this.log('certificate_rejected', { error: err.message }));
        return;
      case 'revoke':
        for (const s of m.serials) {
          this.deny.add(s);
        }
        this.reEvaluateOpenFlows();
        return;
      case 'error':
        this.log('control_plane_error', { code: m.code, message: m.message, requestId: m.requestId });
        if (m.requestId) {
          this.pending.delete(m.requestId);
        }
        return;
      case 'ping':
      case 'pong':
        return;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  /** Checks the shape of a rule set before anything is changed: a bad one is refused whole (nack). */
  private validate(rs: RuleSet): void {
    const e = this.store.enrollment();
    if (!rs || typeof rs !== 'object' || rs.agentId !== e.agentId) {
      throw new Error('rule set is not for this agent');
    }
    for (const k of ['pus', 'services', 'policies', 'trustBundle', 'denyList'] as const) {
      if (!Array.isArray(rs[k])) {
        throw new Error(`rule set field ${k} is not a list`);
      }
    }
    if (typeof rs.hash !== 'string' || !Number.isInteger(rs.revision)) {
      throw new Error('rule set has no hash or revision');
    }
  }

  private async apply(rs: RuleSet, fromControlPlane: boolean): Promise<void> {
    this.validate(rs);
    this.rs = rs;
    this.deny = new Set(rs.denyList);
    if (rs.trustBundle.length > 0 && rs.trustBundle.join('') !== this.bundle.join('')) {
      this.bundle = rs.trustBundle;
      await this.store.saveBundle(this.bundle);
      this.refreshContexts();
    }
    await this.reconcileInbound();
    await this.reconcileOutbound();
    this.requestMissingCertificates();
    this.reEvaluateOpenFlows();
    this.metrics.revision.set(rs.revision);
    this.counts.applied++;
    if (fromControlPlane) {
      await this.store.saveRuleSet(rs);
      this.channel?.send({ type: 'ack', revision: rs.revision, hash: rs.hash });
      this.log('ruleset_applied', { revision: rs.revision, hash: rs.hash.slice(0, 12), services: rs.services.length, policies: rs.policies.length });
    }
    await this.redirector?.install(this.redirectPlan());
  }

  /** The rule-set PU for a declared unit (the control plane may have suffixed its name to keep names unique). */
  private puIdOf(name: string): string | null {
    const pu = this.rs?.pus.find((p) => p.name === name || p.name.startsWith(`${name}@`));
    return pu?.id ?? null;
  }

  private material(c: PuCredential) {
    return { key: c.keyPem, cert: c.certPem, ca: this.bundle };
  }

  private async reconcileInbound(): Promise<void> {
    for (const h of this.config.hostServices) {
      const cred = this.creds.get(h.name);
      if (!cred || this.inbound.has(h.name)) {
        continue;
      }
      const listener = new InboundListener({
        host: this.config.listenHost,
        port: h.listenPort,
        target: h.target,
        protectedPort: h.port,
        material: this.material(cred),
        flows: this.flows,
        authorize: (peer) => isAllowedInbound(this.rs, this.deny, this.puIdOf(h.name), peer.certificate, h.port, new Date()),
      });
      const port = await listener.listen();
      this.inbound.set(h.name, listener);
      this.log('inbound_listening', { hostService: h.name, protectedPort: h.port, port });
    }
  }

  private async reconcileOutbound(): Promise<void> {
    const rs = this.rs!;
    const localIds = new Set(rs.pus.map((p) => p.id));
    const wanted = new Map<string, ServiceDef>();
    for (const s of rs.services) {
      // A service implemented here is not dialled from here through the agent.
      if (rs.pus.some((p) => localIds.has(p.id) && p.type === 'HostService' && p.ports.includes(`tcp/${s.port}`))) {
        continue;
      }
      if (this.config.mode === 'explicit' && !this.config.services.some((c) => c.name === s.name)) {
        continue;
      }
      wanted.set(s.id, s);
    }
    for (const [id, o] of this.outbound) {
      const s = wanted.get(id);
      if (!s || serviceKey(s) !== o.key) {
        this.outbound.delete(id);
        await o.listener.close();
        this.log('outbound_closed', { service: o.service.name });
      }
    }
    for (const [id, s] of wanted) {
      if (this.outbound.has(id)) {
        this.outbound.get(id)!.service = s;
        continue;
      }
      const upstream = await this.upstreamOf(s);
      if (!upstream) {
        this.log('service_unresolvable', { service: s.name, hosts: s.hosts });
        continue;
      }
      const entry: OutboundEntry = { service: s, key: serviceKey(s), upstream, listener: null as unknown as OutboundListener };
      const listenPort = this.config.mode === 'explicit' ? this.config.services.find((c) => c.name === s.name)!.listenPort : 0;
      entry.listener = new OutboundListener({
        host: this.config.mode === 'explicit' ? this.config.listenHost : '127.0.0.1',
        port: listenPort,
        upstream,
        flows: this.flows,
        identify: (sock) => this.identify(sock),
        authorizeOutgoing: (id) => isAllowedOutbound(this.rs, id.puId, entry.service, new Date()),
        verifyServer: (cert) => isExpectedServer(this.deny, entry.service, cert),
      });
      for (const [name, c] of this.creds) {
        const puId = this.puIdOf(name);
        if (puId) {
          entry.listener.setClientContext(puId, this.material(c));
        }
      }
      const port = await entry.listener.listen();
      this.outbound.set(id, entry);
      this.log('outbound_listening', { service: s.name, port, upstream });
    }
  }

  private async upstreamOf(s: ServiceDef): Promise<{ host: string; port: number } | null> {
    if (s.IPs.length > 0) {
      return { host: s.IPs[0].replace(/\/\d+$/, ''), port: s.exposedPort };
    }
    for (const h of s.hosts) {
      try {
        const r = await lookup(h, { family: 4 });
        return { host: r.address, port: s.exposedPort };
      } catch {
        // try the next name
      }
    }
    return null;
  }

  private identify(sock: Socket): ClientIdentity | null {
    const name = this.resolver.resolve(sock);
    const puId = name ? this.puIdOf(name) : null;
    if (!name || !puId) {
      return null;
    }
    return { puId, name };
  }

  /** Sends a CSR for every declared unit that has no usable certificate yet. */
  private requestMissingCertificates(): void {
    for (const d of this.declared) {
      const puId = this.puIdOf(d.name);
      const c = this.creds.get(d.name);
      if (puId && (!c || c.id !== puId || this.dueForRenewal(c.certPem))) {
        void this.requestCertificate('pu', d.name);
      }
    }
  }

  private dueForRenewal(certPem: string): boolean {
    const info = readCertificate(certPem);
    const life = info.notAfter.getTime() - info.notBefore.getTime();
    const jitter = (hashFraction(info.serial) * RENEW_JITTER_FRACTION) * life;
    return Date.now() >= info.notBefore.getTime() + life * RENEW_AT_FRACTION + jitter;
  }

  private async requestCertificate(subject: 'agent' | 'pu', name: string): Promise<void> {
    for (const p of this.pending.values()) {
      if (p.name === name && p.subject === subject && Date.now() - p.sentAt < CSR_TIMEOUT_MS) {
        return;
      }
    }
    const { privateKeyPem } = await generateKeyPair();
    const requestId = randomUUID();
    const csr = await createCsr(privateKeyPem, name);
    this.pending.set(requestId, { name, subject, keyPem: privateKeyPem, sentAt: Date.now() });
    const sent = this.channel?.send({ type: 'csr', requestId, subject, ...(subject === 'pu' ? { puName: name } : {}), csr });
    if (!sent) {
      this.pending.delete(requestId);
    }
  }

  private async onCert(m: Extract<ServerMessage, { type: 'cert' }>): Promise<void> {
    const p = this.pending.get(m.requestId);
    if (!p) {
      return;
    }
    this.pending.delete(m.requestId);
    const info = readCertificate(m.certificate);
    if (m.trustBundle.length && m.trustBundle.join('') !== this.bundle.join('')) {
      this.bundle = m.trustBundle;
      await this.store.saveBundle(this.bundle);
    }
    if (p.subject === 'agent') {
      await this.store.saveAgentCertificate(m.certificate);
      await this.store.write(this.store.paths.key, p.keyPem, 0o600);
      this.agentCred = { keyPem: p.keyPem, certPem: m.certificate, notAfter: info.notAfter };
      this.metrics.certExpiry.set({ subject: 'agent' }, info.notAfter.getTime() / 1000);
      this.log('agent_certificate_renewed', { notAfter: info.notAfter.toISOString() });
      return;
    }
    const cred: PuCredential = { name: p.name, id: m.puId ?? info.identity?.id ?? '', keyPem: p.keyPem, certPem: m.certificate, notAfter: info.notAfter.toISOString() };
    await this.store.savePuCredential(cred);
    this.creds.set(p.name, cred);
    this.metrics.certExpiry.set({ subject: p.name }, info.notAfter.getTime() / 1000);
    this.log('pu_certificate_issued', { pu: p.name, notAfter: cred.notAfter });
    const inbound = this.inbound.get(p.name);
    if (inbound) {
      inbound.updateContext(this.material(cred));
    } else if (this.rs) {
      await this.reconcileInbound();
      await this.redirector?.install(this.redirectPlan());
    }
    for (const o of this.outbound.values()) {
      o.listener.setClientContext(cred.id, this.material(cred));
    }
  }

  private refreshContexts(): void {
    for (const [name, c] of this.creds) {
      this.inbound.get(name)?.updateContext(this.material(c));
      for (const o of this.outbound.values()) {
        o.listener.setClientContext(c.id, this.material(c));
      }
    }
  }

  private maintainCertificates(): void {
    if (this.stopped || !this.channel?.connected) {
      return;
    }
    if (this.agentCred && this.dueForRenewal(this.agentCred.certPem)) {
      void this.requestCertificate('agent', 'agent');
    }
    this.requestMissingCertificates();
  }

  /** Re-decides every open flow against the current rule set; closes (after graceSeconds) the ones now refused. */
  private reEvaluateOpenFlows(): void {
    const refused = (i: FlowInfo): boolean => !this.stillAllowed(i);
    const close = () => {
      const n = this.flows.closeFlows(refused);
      if (n > 0) {
        this.log('flows_closed_by_policy', { count: n });
      }
    };
    if (this.config.graceSeconds > 0) {
      setTimeout(close, this.config.graceSeconds * 1000).unref();
    } else {
      close();
    }
  }

  private stillAllowed(i: FlowInfo): boolean {
    if (i.peerSerial && this.deny.has(i.peerSerial)) {
      return false;
    }
    if (!this.rs) {
      return false;
    }
    if (i.direction === 'inbound') {
      const h = this.config.hostServices.find((x) => x.port === i.port);
      const puId = h ? this.puIdOf(h.name) : null;
      if (!puId) {
        return false;
      }
      const tags = i.source.tags ?? [];
      return decide(this.rs, puId, 'incoming', tags, `tcp/${i.port}`, new Date()).action === 'Allow';
    }
    const o = [...this.outbound.values()].find((x) => x.upstream.port === i.destination.port && x.upstream.host === i.destination.address);
    if (!o || !i.source.identity) {
      return false;
    }
    return isAllowedOutbound(this.rs, i.source.identity, o.service, new Date()).allow;
  }

  private onFlowEnd(r: FlowRecord): void {
    const incoming = r.direction === 'inbound';
    const allowed = r.verdict === 'Accept';
    if (allowed) {
      this.metrics.flowsAccepted.inc({ direction: incoming ? 'incoming' : 'outgoing' });
      this.metrics.bytes.inc({ direction: 'up' }, r.bytesUp);
      this.metrics.bytes.inc({ direction: 'down' }, r.bytesDown);
      this.metrics.flowSeconds.observe(r.durationMs / 1000);
    } else {
      this.metrics.flowsRefused.inc({ direction: incoming ? 'incoming' : 'outgoing', reason: r.refusal ?? r.reason });
    }
    const local = (idOrName: string | null) => {
      const pu = this.rs?.pus.find((p) => p.id === idOrName || p.name === idOrName);
      return { id: pu?.id ?? idOrName, name: pu?.name ?? null, namespace: pu?.namespace ?? this.store.enrollment().namespace };
    };
    const remote = (identity: string | null, tags: string[] | undefined) => {
      let id: string | null = null;
      let ns: string | null = null;
      try {
        if (identity) {
          const i = parseSpiffeId(identity);
          id = i.id;
          ns = i.namespace;
        }
      } catch {
        // not a Palisade identity (a plaintext or foreign client): left unknown
      }
      const name = tags?.find((t) => t.startsWith('$name='))?.slice(6) ?? null;
      return { id, name, namespace: ns };
    };
    let src;
    let dst;
    let serviceId: string | null = null;
    if (incoming) {
      src = remote(r.source.identity, r.source.tags);
      const h = this.config.hostServices.find((x) => x.port === r.port);
      dst = local(h ? this.puIdOf(h.name) : null);
      if (!src.id) {
        src = { id: null, name: `${r.source.address}:${r.source.port}`, namespace: null };
      }
    } else {
      src = local(r.source.identity);
      dst = remote(r.destination.identity, r.destination.tags);
      const o = [...this.outbound.values()].find((x) => x.upstream.port === r.destination.port && x.upstream.host === r.destination.address);
      serviceId = o?.service.id ?? null;
      if (!dst.name && o) {
        dst = { ...dst, name: o.service.name };
      }
    }
    this.aggregator.add({
      sourceId: src.id,
      sourceName: src.name,
      sourceNamespace: src.namespace,
      destinationId: dst.id,
      destinationName: dst.name,
      destinationNamespace: dst.namespace,
      serviceId,
      port: `tcp/${incoming ? r.port : (this.outbound.get(serviceId ?? '')?.service.port ?? r.port)}`,
      direction: incoming ? 'incoming' : 'outgoing',
      action: allowed ? 'Allow' : 'Reject',
      policyId: r.policyId,
      policyName: r.policyName,
      // A policy refusal reports the decision's own reason (default, policy, fallback); any other refusal its code.
      reason: r.refusal && r.refusal !== 'policy_reject' ? r.refusal : r.reason || r.refusal || 'policy',
      bytesIn: r.bytesUp,
      bytesOut: r.bytesDown,
      durationMs: r.durationMs,
      at: new Date(),
    });
  }

  private flushFlows(): void {
    if (this.aggregator.size === 0 || !this.channel?.connected) {
      return;
    }
    const batch = this.aggregator.drain();
    if (!this.channel.send({ type: 'flows', records: batch })) {
      this.aggregator.restore(batch);
    }
  }

  private redirectPlan() {
    return {
      inbound: this.config.hostServices
        .filter((h) => this.inbound.has(h.name))
        .map((h) => ({ port: h.port, toPort: this.inbound.get(h.name)!.port })),
      outbound: [...this.outbound.values()].map((o) => ({ address: o.upstream.host, port: o.upstream.port, toPort: o.listener.port })),
    };
  }

  /** What `palisade-agent status` shows; written to the state directory every few seconds. */
  snapshot() {
    const e = this.store.enrollment();
    return {
      at: new Date().toISOString(),
      pid: process.pid,
      agentId: e.agentId,
      namespace: e.namespace,
      controlPlane: { url: this.config.controlPlaneUrl ?? e.controlPlaneUrl, connected: this.channel?.connected ?? false, lastConnectedAt: this.channel?.lastConnectedAt?.toISOString() ?? null, lastError: this.channel?.lastError ?? null },
      mode: this.config.mode,
      ruleSet: this.rs ? { revision: this.rs.revision, hash: this.rs.hash, policies: this.rs.policies.length, services: this.rs.services.length } : null,
      protectedPorts: this.config.hostServices.map((h) => ({ name: h.name, port: h.port, listening: this.inbound.get(h.name)?.port ?? null, stats: this.inbound.get(h.name)?.stats ?? null })),
      services: [...this.outbound.values()].map((o) => ({ name: o.service.name, listening: o.listener.port, upstream: `${o.upstream.host}:${o.upstream.port}`, stats: o.listener.stats })),
      certificates: [
        ...(this.agentCred ? [{ subject: 'agent', notAfter: this.agentCred.notAfter.toISOString() }] : []),
        ...[...this.creds.values()].map((c) => ({ subject: c.name, id: c.id, notAfter: c.notAfter })),
      ],
      openFlows: this.flows.list().length,
      counts: this.counts,
    };
  }

  private async writeStatus(): Promise<void> {
    try {
      await this.store.saveStatus(this.snapshot());
    } catch {
      // the status file is a convenience; never let it disturb enforcement
    }
  }

  /** Test and status helper: the peer identity the agent would read from a certificate. */
  static peerIdentity = peerIdentity;
}

function serviceKey(s: ServiceDef): string {
  return JSON.stringify([s.IPs, s.hosts, s.exposedPort, s.port]);
}

/** A stable number in [0,1) from a serial, so renewal jitter differs per certificate but not per check. */
function hashFraction(serial: string): number {
  let h = 0;
  for (let i = 0; i < serial.length; i++) {
    h = (h * 31 + serial.charCodeAt(i)) >>> 0;
  }
  return h / 2 ** 32;
}
