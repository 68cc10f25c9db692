import { PolicyError } from './errors';

/** A port spec reduced to numbers: protocol plus an inclusive range (1..65535 for a bare protocol). */
export interface PortRange {
  readonly protocol: 'tcp' | 'udp';
  readonly from: number;
  readonly to: number;
}

const SPEC = /^(tcp|udp)(?:\/(\d{1,5})(?::(\d{1,5}))?)?$/;

/**
 * Parses one port spec: `tcp/8106`, a range `tcp/1000:2000` (inclusive), or a bare `tcp` (any port).
 * Protocol is `tcp` or `udp`, case-insensitive. Throws `port_malformed` or `port_out_of_range` at `path`.
 */
export function parsePort(spec: unknown, path = 'port'): PortRange {
  if (typeof spec !== 'string') {
    throw new PolicyError('port_malformed', path, 'a port must be a string like "tcp/8106"');
  }
  const m = SPEC.exec(spec.toLowerCase());
  if (!m) {
    throw new PolicyError('port_malformed', path, `"${spec}" is not tcp/<port>, tcp/<from>:<to> or tcp`);
  }
  const protocol = m[1] as 'tcp' | 'udp';
  if (m[2] === undefined) {
    return { protocol, from: 1, to: 65535 };
  }
  const from = Number(m[2]);
  const to = m[3] === undefined ? from : Number(m[3]);
  for (const n of [from, to]) {
    if (n < 1 || n > 65535) {
      throw new PolicyError('port_out_of_range', path, `port ${n} is outside 1–65535`);
    }
  }
  if (from > to) {
    throw new PolicyError('port_malformed', path, `range "${spec}" runs backwards`);
  }
  return { protocol, from, to };
}

/** The canonical text of a range: `tcp`, `tcp/8106` or `tcp/1000:2000`. */
export function formatPort(r: PortRange): string {
  if (r.from === 1 && r.to === 65535) {
    return r.protocol;
  }
  return r.from === r.to ? `${r.protocol}/${r.from}` : `${r.protocol}/${r.from}:${r.to}`;
}

/**
 * Validates a list of port specs and returns it normalised (lower-case, canonical form, sorted by protocol
 * then start then end, duplicates removed). An empty list is valid and means "any port" on a policy
 * (README rule 6). Errors name the element, e.g. `ports[1]`.
 */
export function validatePorts(ports: unknown, field = 'ports'): string[] {
  if (!Array.isArray(ports)) {
    throw new PolicyError('ports_not_array', field, 'must be a list of port specs like "tcp/8106"');
  }
  const ranges = ports.map((p: unknown, i) => parsePort(p, `${field}[${i}]`));
  ranges.sort((a, b) =>
    a.protocol !== b.protocol ? (a.protocol < b.protocol ? -1 : 1) : a.from - b.from || a.to - b.to,
  );
  return [...new Set(ranges.map(formatPort))];
}

/**
 * Validates a single port number (a service's `port` or `exposedPort`): an integer in 1–65535.
 * Throws `port_malformed` (not an integer) or `port_out_of_range` naming `field`.
 */
export function validatePortNumber(n: unknown, field = 'port'): number {
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw new PolicyError('port_malformed', field, 'must be an integer port number');
  }
  if (n < 1 || n > 65535) {
    throw new PolicyError('port_out_of_range', field, `port ${n} is outside 1–65535`);
  }
  return n;
}

const rangeCache = new Map<string, PortRange | null>();

function cachedRange(spec: string): PortRange | null {
  let r = rangeCache.get(spec);
  if (r === undefined) {
    try {
      r = parsePort(spec);
    } catch {
      r = null;
    }
    if (rangeCache.size < 4096) {
      rangeCache.set(spec, r);
    }
  }
  return r;
}

/**
 * True when the concrete `port` (`tcp/8106`) falls in one of `ports`; an empty list matches any port
 * (README rule 6). A malformed concrete port matches nothing — fail closed.
 */
export function portMatches(ports: readonly string[], port: string): boolean {
  const p = cachedRange(port);
  if (!p || p.from !== p.to) {
    return false;
  }
  if (ports.length === 0) {
    return true;
  }
  for (const spec of ports) {
    const r = cachedRange(spec);
    if (r && r.protocol === p.protocol && r.from <= p.from && p.from <= r.to) {
      return true;
    }
  }
  return false;
}
