import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The agent's Prometheus metrics, served on a local port only (default 127.0.0.1:9106): flows accepted and
 * refused by reason, handshake time, bytes, the applied rule-set revision, certificate expiry and whether the
 * control channel is up. Counters are updated from the flow-end callback, never per byte.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly flowsAccepted = new Counter({
    name: 'palisade_agent_flows_accepted_total',
    help: 'Flows accepted, by direction',
    labelNames: ['direction'],
    registers: [this.registry],
  });
  readonly flowsRefused = new Counter({
    name: 'palisade_agent_flows_refused_total',
    help: 'Connections refused, by direction and reason',
    labelNames: ['direction', 'reason'],
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'palisade_agent_bytes_total',
    help: 'Plaintext bytes carried, by direction of travel (up = client to server)',
    labelNames: ['direction'],
    registers: [this.registry],
  });
  readonly flowSeconds = new Histogram({
    name: 'palisade_agent_flow_duration_seconds',
    help: 'Duration of accepted flows',
    buckets: [0.001, 0.01, 0.1, 1, 10, 60, 600],
    registers: [this.registry],
  });
  readonly handshakeSeconds = new Histogram({
    name: 'palisade_agent_handshake_seconds',
    help: 'Time from accept to a verified TLS peer',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1],
    registers: [this.registry],
  });
  readonly revision = new Gauge({
    name: 'palisade_agent_ruleset_revision',
    help: 'Revision of the applied rule set',
    registers: [this.registry],
  });
  readonly certExpiry = new Gauge({
    name: 'palisade_agent_certificate_expiry_timestamp_seconds',
    help: 'When each certificate the agent holds expires',
    labelNames: ['subject'],
    registers: [this.registry],
  });
  readonly connected = new Gauge({
    name: 'palisade_agent_control_channel_connected',
    help: '1 while the control channel is up',
    registers: [this.registry],
  });
  private server: Server | null = null;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'palisade_agent_' });
  }

  /** Serves /metrics on host:port; resolves with the bound port. */
  async listen(hostPort: string): Promise<number> {
    const i = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(hostPort.slice(i + 1));
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text))
        .catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
