import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlowAggregator, type ObservedFlow } from './reporter';

const flow = (over: Partial<ObservedFlow> = {}): ObservedFlow => ({
  sourceId: 'pu-client',
  sourceName: 'client-app',
  sourceNamespace: '/aporeto/lbtest3',
  destinationId: 'pu-server',
  destinationName: 'tcp:8106',
  destinationNamespace: '/aporeto/lbtest3',
  serviceId: null,
  port: 'tcp/8106',
  direction: 'incoming',
  action: 'Allow',
  policyId: 'p1',
  policyName: 'client-to-mylbtest3',
  reason: 'policy',
  bytesIn: 10,
  bytesOut: 20,
  durationMs: 5,
  at: new Date('2026-12-03T10:00:00Z'),
  ...over,
});

describe(FlowAggregator.name, () => {
  it('merges flows with the same identity, verdict and policy and sums their bytes', () => {
    const sut = new FlowAggregator();
    sut.add(flow());
    sut.add(flow({ bytesIn: 1, at: new Date('2026-12-03T10:00:01Z') }));
    sut.add(flow({ action: 'Reject', policyId: null, policyName: null, reason: 'default' }));
    const out = sut.drain();
    assert.equal(out.length, 2);
    const allowed = out.find((r) => r.action === 'Allow')!;
    assert.equal(allowed.count, 2);
    assert.equal(allowed.bytesIn, 11);
    assert.equal(allowed.firstSeen, '2026-12-03T10:00:00.000Z');
    assert.equal(allowed.lastSeen, '2026-12-03T10:00:01.000Z');
    assert.equal(sut.size, 0);
  });

  it('keeps what could not be sent for the next attempt', () => {
    const sut = new FlowAggregator();
    sut.add(flow());
    const batch = sut.drain();
    sut.restore(batch);
    assert.deepEqual(sut.drain(), batch);
  });
});
