/**
 * The resources the CLI knows, by their API identity (the plural path segment under /v1, the same word
 * the import format uses), with the names a person may type for them — singular, plural and short forms,
 * as kubectl accepts `po`, `pod` and `pods`.
 */
import { usageError } from './errors';

export interface Column {
  header: string;
  /** Reads the cell from an object; fields absent from the API's answer render as "-". */
  get: (o: Record<string, unknown>) => unknown;
}

export interface IdentityInfo {
  /** Path segment under /v1 and key in an import document: `processingunits`. */
  plural: string;
  singular: string;
  aliases: readonly string[];
  /** `palisade delete` can remove it (flow reports and audit logs are append-only). */
  deletable: boolean;
  columns: readonly Column[];
}

const field =
  (name: string) =>
  (o: Record<string, unknown>): unknown =>
    o[name];
const NAME: Column = { header: 'NAME', get: field('name') };
const NAMESPACE: Column = { header: 'NAMESPACE', get: field('namespace') };

export const IDENTITIES: readonly IdentityInfo[] = [
  {
    plural: 'namespaces',
    singular: 'namespace',
    aliases: ['ns'],
    deletable: true,
    columns: [NAME, NAMESPACE, { header: 'DEFAULT', get: field('defaultAction') }],
  },
  {
    plural: 'processingunits',
    singular: 'processingunit',
    aliases: ['pu', 'pus'],
    deletable: true,
    columns: [NAME, NAMESPACE, { header: 'TYPE', get: field('type') }, { header: 'PORTS', get: field('ports') },
      { header: 'TAGS', get: field('associatedTags') }],
  },
  {
    plural: 'networkaccesspolicies',
    singular: 'networkaccesspolicy',
    aliases: ['netpol', 'netpols', 'policy', 'policies'],
    deletable: true,
    columns: [NAME, NAMESPACE, { header: 'ACTION', get: field('action') }, { header: 'SUBJECT', get: field('subject') },
      { header: 'OBJECT', get: field('object') }, { header: 'PORTS', get: field('ports') }],
  },
  {
    plural: 'services',
    singular: 'service',
    aliases: ['svc', 'svcs'],
    deletable: true,
    columns: [NAME, NAMESPACE, { header: 'HOSTS', get: (o) => [...asArray(o.hosts), ...asArray(o.IPs)] },
      { header: 'EXPOSED', get: field('exposedPort') }, { header: 'PORT', get: field('port') },
      { header: 'TAGS', get: field('associatedTags') }],
  },
  {
    plural: 'agents',
    singular: 'agent',
    aliases: [],
    deletable: true,
    columns: [NAME, NAMESPACE, { header: 'CONNECTED', get: field('connected') },
      { header: 'DESIRED', get: field('desiredRevision') }, { header: 'APPLIED', get: field('appliedRevision') },
      { header: 'LAST SEEN', get: field('lastSeen') }],
  },
  {
    plural: 'flowreports',
    singular: 'flowreport',
    aliases: ['flow', 'flows'],
    deletable: false,
    columns: [NAMESPACE, { header: 'SOURCE', get: (o) => o.sourceName ?? o.sourceId },
      { header: 'DESTINATION', get: (o) => o.destinationName ?? o.destinationId }, { header: 'PORT', get: field('port') },
      { header: 'ACTION', get: field('action') }, { header: 'POLICY', get: (o) => o.policyName ?? o.policyId },
      { header: 'REASON', get: field('reason') }],
  },
  {
    plural: 'apitokens',
    singular: 'apitoken',
    aliases: ['token', 'tokens'],
    deletable: true,
    columns: [NAME, NAMESPACE, { header: 'ROLE', get: field('role') }, { header: 'EXPIRES', get: field('expiresAt') }],
  },
  {
    plural: 'auditlogs',
    singular: 'auditlog',
    aliases: ['audit'],
    deletable: false,
    columns: [NAMESPACE, { header: 'TIME', get: (o) => o.createTime ?? o.createdAt ?? o.time },
      { header: 'ACTOR', get: field('actor') }, { header: 'ACTION', get: field('action') },
      { header: 'IDENTITY', get: field('identity') }, { header: 'OBJECT', get: (o) => o.objectName ?? o.objectId }],
  },
  {
    plural: 'enrollmenttokens',
    singular: 'enrollmenttoken',
    aliases: ['enrollment', 'et'],
    deletable: true,
    columns: [{ header: 'ID', get: field('id') }, NAMESPACE, { header: 'EXPIRES', get: field('expiresAt') },
      { header: 'MAX USES', get: field('maxUses') }, { header: 'USES', get: field('uses') }],
  },
];

const BY_NAME = new Map<string, IdentityInfo>();
for (const info of IDENTITIES) {
  for (const n of [info.plural, info.singular, ...info.aliases]) {
    BY_NAME.set(n, info);
  }
}

/**
 * Resolves what the user typed (`pu`, `processingunit`, `ProcessingUnits`) to an identity. Case is ignored.
 * An unknown word is a usage error listing the identities, so the fix is on screen.
 */
export function resolveIdentity(word: string): IdentityInfo {
  const info = BY_NAME.get(word.toLowerCase());
  if (!info) {
    throw usageError('identity_unknown', `unknown resource "${word}" (one of: ${IDENTITIES.map((i) => i.plural).join(', ')})`);
  }
  return info;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
