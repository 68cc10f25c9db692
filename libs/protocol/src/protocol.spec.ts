import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeEnrollmentToken,
  encodeEnrollmentToken,
  MAX_MESSAGE_BYTES,
  parseAgentMessage,
  parseServerMessage,
  ProtocolError,
} from './index';

const hello = {
  type: 'hello',
  protocol: 1,
  agentId: 'a1',
  appliedRevision: null,
  appliedHash: null,
  version: '0.1.0',
  capabilities: ['explicit'],
  hostname: 'h',
  pus: [{ name: 'tcp:8106', type: 'HostService', associatedTags: ['app=server'], ports: ['tcp/8106'] }],
};

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ProtocolError);
    return `${e.code}${e.field ? ` ${e.field}` : ''}`;
  }
  assert.fail('expected a ProtocolError');
};

describe('control-channel messages', () => {
  it('accepts a well-formed hello and returns it', () => {
    assert.deepEqual(parseAgentMessage(JSON.stringify(hello)), hello);
  });
  it('refuses non-JSON, unknown types and unknown fields, naming the field', () => {
    assert.equal(code(() => parseAgentMessage('{nope')), 'message_malformed');
    assert.equal(code(() => parseAgentMessage('{"type":"exec"}')), 'message_unknown_type type');
    assert.equal(code(() => parseAgentMessage(JSON.stringify({ ...hello, extra: 1 }))), 'message_malformed message.extra');
    assert.equal(
      code(() => parseAgentMessage(JSON.stringify({ ...hello, pus: [{ ...hello.pus[0], type: 'Root' }] }))),
      'message_malformed message.pus[0].type',
    );
    assert.equal(code(() => parseServerMessage('{"type":"hello"}')), 'message_unknown_type type');
  });
  it('refuses an oversize message before parsing it', () => {
    assert.equal(code(() => parseAgentMessage(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 32))), 'message_too_large');
  });
});

describe('enrollment tokens', () => {
  const t = { url: 'https://127.0.0.1:8443', caFingerprint: 'ab'.repeat(32), secret: 'x'.repeat(43) };
  it('round-trips', () => {
    assert.deepEqual(decodeEnrollmentToken(encodeEnrollmentToken(t)), t);
    const e = { ...t, expiresAt: '2026-12-03T16:00:00.000Z' };
    assert.deepEqual(decodeEnrollmentToken(encodeEnrollmentToken(e)), e);
  });
  it('refuses malformed tokens with one code', () => {
    for (const bad of ['', 'hello', 'palisade-enroll.v1.!!!', encodeEnrollmentToken({ ...t, caFingerprint: 'zz' })]) {
      assert.equal(code(() => decodeEnrollmentToken(bad)), 'token_malformed token');
    }
    assert.equal(code(() => decodeEnrollmentToken(encodeEnrollmentToken({ ...t, url: 'http://x' }))), 'token_malformed token');
  });
});
