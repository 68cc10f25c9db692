import { any, arr, bool, int, nullable, obj, oneOf, optional, ProtocolError, str, type Check } from './schema';

/** Largest control-channel message either end accepts (a rule set for a large host fits well inside). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** The WebSocket path on the control plane's HTTPS server. */
export const CONTROL_CHANNEL_PATH = '/v1/agents/connect';

export const PROTOCOL_VERSION = 1;

const tags = arr(str(255), 256);
const puType = oneOf('HostService', 'LinuxProcess', 'Host', 'User');

/** A processing unit as an agent declares it from its configuration. */
const declaredPu = obj({
  name: str(255),
  type: puType,
  associatedTags: tags,
  ports: arr(str(32), 64),
});
export type DeclaredPu = ReturnType<typeof declaredPu>;

const flowRecord = obj({
  sourceId: nullable(str(512)),
  sourceName: nullable(str(512)),
  sourceNamespace: nullable(str(512)),
  destinationId: nullable(str(512)),
  destinationName: nullable(str(512)),
  destinationNamespace: nullable(str(512)),
  serviceId: nullable(str(64)),
  port: str(32),
  direction: oneOf('incoming', 'outgoing'),
  action: oneOf('Allow', 'Reject'),
  policyId: nullable(str(64)),
  policyName: nullable(str(512)),
  reason: str(128),
  observed: optional(bool),
  count: int(1),
  bytesIn: int(0),
  bytesOut: int(0),
  durationMs: int(0),
  firstSeen: str(64),
  lastSeen: str(64),
});
export type FlowRecord = ReturnType<typeof flowRecord>;

const agentMessages = {
  hello: obj({
    type: oneOf('hello'),
    protocol: int(1, 100),
    agentId: str(64),
    appliedRevision: nullable(int(0)),
    appliedHash: nullable(str(128)),
    version: str(64),
    capabilities: arr(str(64), 64),
    hostname: str(255),
    pus: arr(declaredPu, 1000),
  }),
  ack: obj({ type: oneOf('ack'), revision: int(0), hash: str(128) }),
  nack: obj({ type: oneOf('nack'), revision: int(0), hash: str(128), reason: str(1024) }),
  csr: obj({
    type: oneOf('csr'),
    requestId: str(64),
    subject: oneOf('agent', 'pu'),
    puName: optional(str(255)),
    csr: str(16_384),
  }),
  flows: obj({ type: oneOf('flows'), records: arr(flowRecord, 10_000) }),
  ping: obj({ type: oneOf('ping'), ts: int(0) }),
  pong: obj({ type: oneOf('pong'), ts: int(0) }),
};

const serverMessages = {
  ruleset: obj({ type: oneOf('ruleset'), ruleSet: any }),
  cert: obj({
    type: oneOf('cert'),
    requestId: str(64),
    subject: oneOf('agent', 'pu'),
    puName: optional(str(255)),
    puId: optional(str(64)),
    certificate: str(65_536),
    notAfter: str(64),
    trustBundle: arr(str(65_536), 64),
  }),
  error: obj({ type: oneOf('error'), requestId: optional(str(64)), code: str(64), message: str(1024) }),
  revoke: obj({ type: oneOf('revoke'), serials: arr(str(128), 100_000) }),
  ping: obj({ type: oneOf('ping'), ts: int(0) }),
  pong: obj({ type: oneOf('pong'), ts: int(0) }),
};

type Union<M extends Record<string, Check<unknown>>> = { [K in keyof M]: ReturnType<M[K]> }[keyof M];
export type AgentMessage = Union<typeof agentMessages>;
export type ServerMessage = Union<typeof serverMessages>;
export type AgentMessageOf<T extends AgentMessage['type']> = Extract<AgentMessage, { type: T }>;
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

function parseWith<M extends Record<string, Check<unknown>>>(table: M, raw: string | Buffer): Union<M> {
  if (raw.length > MAX_MESSAGE_BYTES) {
    throw new ProtocolError('message_too_large', `message of ${raw.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw new ProtocolError('message_malformed', 'message is not JSON');
  }
  const type = (v as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(table, type)) {
    throw new ProtocolError('message_unknown_type', `unknown message type ${JSON.stringify(type)}`, 'type');
  }
  return table[type](v, 'message') as Union<M>;
}

/** Parses and validates a message an agent sent; throws ProtocolError naming the bad field. */
export function parseAgentMessage(raw: string | Buffer): AgentMessage {
  return parseWith(agentMessages, raw);
}

/** Parses and validates a message the control plane sent; throws ProtocolError naming the bad field. */
export function parseServerMessage(raw: string | Buffer): ServerMessage {
  return parseWith(serverMessages, raw);
}
