import type { FlowRecord as WireFlowRecord } from '@palisade/protocol';
import { FLOW_BUFFER_MAX } from '../defaults';

/** One flow as the datapath saw it at close (or at refusal), already resolved to identities. */
export interface ObservedFlow {
  sourceId: string | null;
  sourceName: string | null;
  sourceNamespace: string | null;
  destinationId: string | null;
  destinationName: string | null;
  destinationNamespace: string | null;
  serviceId: string | null;
  port: string;
  direction: 'incoming' | 'outgoing';
  action: 'Allow' | 'Reject';
  policyId: string | null;
  policyName: string | null;
  reason: string;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  at: Date;
}

const KEY_FIELDS = [
  'sourceId',
  'sourceNamespace',
  'destinationId',
  'destinationNamespace',
  'serviceId',
  'port',
  'direction',
  'action',
  'policyId',
  'reason',
] as const;

/**
 * Aggregates flows per interval: flows with the same source, destination, service, port, direction, verdict,
 * deciding policy and reason become one record with a count and summed bytes and durations — what a person
 * reading flow reports wants, at a fraction of the volume. While the control plane is unreachable records are
 * kept up to FLOW_BUFFER_MAX (the oldest are dropped first, and counted as dropped).
 */
export class FlowAggregator {
  private readonly pending = new Map<string, WireFlowRecord>();
  dropped = 0;

  add(f: ObservedFlow): void {
    const key = KEY_FIELDS.map((k) => f[k] ?? '').join('\u0000');
    const at = f.at.toISOString();
    const cur = this.pending.get(key);
    if (cur) {
      cur.count += 1;
      cur.bytesIn += f.bytesIn;
      cur.bytesOut += f.bytesOut;
      cur.durationMs += f.durationMs;
      cur.lastSeen = at;
      return;
    }
    if (this.pending.size >= FLOW_BUFFER_MAX) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      this.dropped++;
    }
    this.pending.set(key, {
      sourceId: f.sourceId,
      sourceName: f.sourceName,
      sourceNamespace: f.sourceNamespace,
      destinationId: f.destinationId,
      destinationName: f.destinationName,
      destinationNamespace: f.destinationNamespace,
      serviceId: f.serviceId,
      port: f.port,
      direction: f.direction,
      action: f.action,
      policyId: f.policyId,
      policyName: f.policyName,
      reason: f.reason,
      count: 1,
      bytesIn: f.bytesIn,
      bytesOut: f.bytesOut,
      durationMs: Math.round(f.durationMs),
      firstSeen: at,
      lastSeen: at,
    });
  }

  get size(): number {
    return this.pending.size;
  }

  /** Takes everything aggregated so far (the caller sends it, and puts it back with `restore` if it could not). */
  drain(): WireFlowRecord[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }

  restore(records: WireFlowRecord[]): void {
    for (const r of records.reverse()) {
      if (this.pending.size >= FLOW_BUFFER_MAX) {
        this.dropped++;
        continue;
      }
      this.pending.set(`restored\u0000${this.pending.size}\u0000${r.firstSeen}\u0000${Math.random()}`, r);
    }
  }
}
