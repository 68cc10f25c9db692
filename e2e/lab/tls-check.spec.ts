// The rules of evaluateTls13, one case each, on hand-written tshark rows (no tshark, no root needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateTls13 } from './tls-check';
import type { TlsSegment } from './tshark-read';

const seg = (frame: number, stream: number, o: Partial<TlsSegment> = {}): TlsSegment => ({
  frame,
  stream,
  srcPort: 40000,
  dstPort: 7106,
  recordVersions: [0x0303],
  contentTypes: [23],
  handshakeTypes: [],
  supportedVersions: [],
  reassembledIn: null,
  protocol: 'TLSv1.3',
  ...o,
});
const clientHello = (f: number, s: number): TlsSegment =>
  seg(f, s, {
    recordVersions: [0x0301],
    contentTypes: [22],
    handshakeTypes: [1],
    supportedVersions: [0x0304, 0x0303],
  });
const serverHello = (f: number, s: number, v = 0x0304): TlsSegment =>
  seg(f, s, {
    contentTypes: [22, 20, 23],
    recordVersions: [0x0303, 0x0303, 0x0303],
    handshakeTypes: [2],
    supportedVersions: [v],
  });

void describe(evaluateTls13.name, () => {
  void it('accepts a TLS 1.3 stream: hellos, then application data', () => {
    const r = evaluateTls13([clientHello(1, 0), serverHello(2, 0), seg(3, 0), seg(4, 0)]);
    assert.deepEqual(r, {
      ok: true,
      segments: 4,
      streams: [{ stream: 0, negotiated: 0x0304 }],
      violations: [],
    });
  });

  void it('accepts a segment that is part of a record reassembled in a later TLS frame', () => {
    const part = seg(3, 0, { contentTypes: [], recordVersions: [], reassembledIn: 4, protocol: 'TCP' });
    assert.equal(evaluateTls13([clientHello(1, 0), serverHello(2, 0), part, seg(4, 0)]).ok, true);
  });

  void it('refuses an empty capture: nothing seen is not only-TLS seen', () => {
    assert.equal(evaluateTls13([]).ok, false);
  });

  void it('refuses a plaintext segment as not_a_tls_record', () => {
    const plain = seg(3, 0, { contentTypes: [], recordVersions: [], protocol: 'TCP' });
    const r = evaluateTls13([clientHello(1, 0), serverHello(2, 0), plain]);
    assert.deepEqual(
      r.violations.map((v) => [v.frame, v.reason]),
      [[3, 'not_a_tls_record']],
    );
  });

  void it('refuses a stream without a ServerHello as no_server_hello', () => {
    const r = evaluateTls13([seg(5, 1)]);
    assert.deepEqual(
      r.violations.map((v) => v.reason),
      ['no_server_hello'],
    );
  });

  void it('refuses a TLS 1.2 ServerHello as not_tls13', () => {
    const tls12 = seg(2, 0, { contentTypes: [22], handshakeTypes: [2, 11, 14], supportedVersions: [] });
    const r = evaluateTls13([clientHello(1, 0), tls12, seg(3, 0)]);
    assert.deepEqual(
      r.violations.map((v) => [v.reason, v.detail]),
      [['not_tls13', 'stream 0 negotiated 0x0303']],
    );
  });

  void it('refuses an SSL 3.0 record version and an unknown content type', () => {
    const r = evaluateTls13([
      clientHello(1, 0),
      serverHello(2, 0),
      seg(3, 0, { recordVersions: [0x0300], contentTypes: [24] }),
    ]);
    assert.deepEqual(r.violations.map((v) => v.reason).sort(), [
      'content_type_unexpected',
      'record_version_unexpected',
    ]);
  });
});
