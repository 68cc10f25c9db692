import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { PolicyError, validateTags } from '@palisade/policy';
import { DEFAULT_AGENT_GID, METRICS_LISTEN } from '../defaults';

/** A protected host service: the application's port and the tags of its processing unit. */
export interface HostServiceConfig {
  name: string;
  port: number;
  tags: string[];
  /** Explicit mode: where the agent's TLS listener listens. Transparent mode: 0 = pick one. */
  listenPort: number;
  /** Where the application listens; the agent forwards allowed flows there. */
  target: { host: string; port: number };
}

/** A rule recognising local client processes, with the tags of the processing unit they become. */
export interface ProcessConfig {
  name: string;
  user?: number | string;
  exe?: string;
  cgroup?: string;
  tags: string[];
}

/** Explicit mode: the local port a client dials for a service. */
export interface ServiceListenConfig {
  name: string;
  listenPort: number;
}

export interface AgentConfig {
  stateDir: string;
  mode: 'explicit' | 'transparent';
  listenHost: string;
  hostServices: HostServiceConfig[];
  processes: ProcessConfig[];
  host: { name: string; tags: string[] };
  services: ServiceListenConfig[];
  metricsListen: string | null;
  graceSeconds: number;
  /** The control plane's URL; defaults to the one the enrollment token carried. */
  controlPlaneUrl: string | null;
  /**
   * Transparent mode: the group the agent runs under; the redirect rules exempt sockets of this group, so the
   * agent's own connections are never redirected back to itself. The agent switches to it at start (as root), or
   * is started under it (e.g. a container's `user: "0:61106"`).
   */
  agentGid: number;
}

/** A configuration error; `line` is 1-based, `field` the dotted path of the offending value. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number | null,
    readonly field: string | null,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${field ? `${field}: ` : ''}${message}`);
    this.name = 'ConfigError';
  }
}

type Path = (string | number)[];
const KNOWN_TOP = [
  'stateDir',
  'mode',
  'listenHost',
  'hostServices',
  'processes',
  'host',
  'services',
  'metricsListen',
  'graceSeconds',
  'controlPlaneUrl',
  'agentGid',
];

/**
 * Parses and validates an agent configuration file. Every error names the file, the line and the field; the
 * first error stops start-up (an agent must never start half-configured). `stateDirFallback` is used when the
 * file names no state directory (the --state-dir flag or PALISADE_AGENT_STATE).
 */
export function parseAgentConfig(text: string, file: string, stateDirFallback: string | null): AgentConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ConfigError(e.message.split('\n')[0], file, e.linePos?.[0]?.line ?? null, null);
  }
  const lineOf = (path: Path): number | null => {
    const node = path.length ? doc.getIn(path, true) : doc.contents;
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) {
      return lc.linePos(range[0]).line;
    }
    return path.length > 1 ? lineOf(path.slice(0, -1)) : null;
  };
  const err = (path: Path, msg: string): never => {
    throw new ConfigError(msg, file, lineOf(path), path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '['));
  };
  const root = doc.toJS() as Record<string, unknown> | null;
  if (root === null || typeof root !== 'object' || Array.isArray(root) || !isMap(doc.contents)) {
    return err([], 'the configuration must be a YAML mapping');
  }
  for (const k of Object.keys(root)) {
    if (!KNOWN_TOP.includes(k)) {
      err([k], `unknown setting (known: ${KNOWN_TOP.join(', ')})`);
    }
  }
  const v = new Reader(doc, err);

  const mode = v.oneOf(['mode'], ['explicit', 'transparent'], 'explicit');
  const stateDir = v.str(['stateDir'], stateDirFallback ?? undefined);
  const listenHost = v.str(['listenHost'], mode === 'explicit' ? '127.0.0.1' : '0.0.0.0');

  const hostServices = v.list(['hostServices']).map((i): HostServiceConfig => {
    const p: Path = ['hostServices', i];
    v.only(p, ['name', 'port', 'tags', 'listenPort', 'target']);
    const port = v.port([...p, 'port']);
    const listenPort = mode === 'explicit' ? v.port([...p, 'listenPort']) : v.port([...p, 'listenPort'], 0);
    const target = v.str([...p, 'target'], `127.0.0.1:${port}`);
    const m = /^([^:]+|\[[^\]]+\]):(\d{1,5})$/.exec(target);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      err([...p, 'target'], 'expected host:port');
    }
    return {
      name: v.str([...p, 'name'], `tcp:${port}`),
      port,
      tags: v.tags([...p, 'tags']),
      listenPort,
      target: { host: m![1].replace(/^\[|\]$/g, ''), port: Number(m![2]) },
    };
  });
  const seenPorts = new Set<number>();
  hostServices.forEach((h, i) => {
    if (seenPorts.has(h.port)) {
      err(['hostServices', i, 'port'], `port ${h.port} is protected twice`);
    }
    seenPorts.add(h.port);
  });

  const processes = v.list(['processes']).map((i): ProcessConfig => {
    const p: Path = ['processes', i];
    v.only(p, ['name', 'user', 'exe', 'cgroup', 'tags']);
    const user = v.raw([...p, 'user']);
    if (user !== undefined && !(typeof user === 'string' && user.length > 0) && !(Number.isInteger(user) && (user as number) >= 0)) {
      err([...p, 'user'], 'expected a user name or a numeric uid');
    }
    const out: ProcessConfig = { name: v.str([...p, 'name']), tags: v.tags([...p, 'tags']) };
    if (user !== undefined) {
      out.user = user as number | string;
    }
    const exe = v.str([...p, 'exe'], '');
    const cgroup = v.str([...p, 'cgroup'], '');
    if (exe) {
      out.exe = exe;
    }
    if (cgroup) {
      out.cgroup = cgroup;
    }
    if (out.user === undefined && !exe && !cgroup) {
      err(p, 'a process rule needs at least one of user, exe, cgroup');
    }
    return out;
  });

  let host = { name: 'host', tags: [] as string[] };
  if (v.raw(['host']) !== undefined) {
    v.only(['host'], ['name', 'tags']);
    host = { name: v.str(['host', 'name'], 'host'), tags: v.tags(['host', 'tags']) };
  }

  const services = v.list(['services']).map((i): ServiceListenConfig => {
    const p: Path = ['services', i];
    v.only(p, ['name', 'listenPort']);
    return { name: v.str([...p, 'name']), listenPort: v.port([...p, 'listenPort']) };
  });

  const metricsRaw = v.raw(['metricsListen']);
  const metricsListen = metricsRaw === null || metricsRaw === false ? null : v.str(['metricsListen'], METRICS_LISTEN);
  const grace = v.raw(['graceSeconds']) ?? 0;
  if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0 || grace > 3600) {
    err(['graceSeconds'], 'expected a number of seconds in 0..3600');
  }
  const url = v.str(['controlPlaneUrl'], '');
  if (url && !/^https:\/\/\S+$/.test(url)) {
    err(['controlPlaneUrl'], 'expected an https:// URL');
  }
  const gid = v.raw(['agentGid']) ?? DEFAULT_AGENT_GID;
  if (!Number.isInteger(gid) || (gid as number) <= 0 || (gid as number) > 2 ** 31) {
    err(['agentGid'], 'expected a numeric group id other than 0');
  }
  return {
    agentGid: gid as number,
    stateDir,
    mode,
    listenHost,
    hostServices,
    processes,
    host,
    services,
    metricsListen,
    graceSeconds: grace as number,
    controlPlaneUrl: url || null,
  };
}

/** Typed accessors over the parsed document that report the line of whatever they refuse. */
class Reader {
  constructor(
    private readonly doc: Document,
    private readonly err: (p: Path, m: string) => never,
  ) {}

  raw(p: Path): unknown {
    const n = this.doc.getIn(p, false);
    return n === undefined ? undefined : JSON.parse(JSON.stringify(n ?? null));
  }

  str(p: Path, dflt?: string): string {
    const x = this.raw(p);
    if (x === undefined || x === null) {
      return dflt !== undefined ? dflt : this.err(p, 'required');
    }
    return typeof x === 'string' && x.length > 0 && x.length < 1024 ? x : this.err(p, 'expected a non-empty string');
  }

  oneOf<T extends string>(p: Path, values: T[], dflt: T): T {
    const x = this.raw(p) ?? dflt;
    return (values as unknown[]).includes(x) ? (x as T) : this.err(p, `expected one of ${values.join(', ')}`);
  }

  port(p: Path, dflt?: number): number {
    const x = this.raw(p);
    if (x === undefined && dflt !== undefined) {
      return dflt;
    }
    if (x === undefined) {
      return this.err(p, 'required');
    }
    return Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 65535
      ? (x as number)
      : this.err(p, 'expected a port number in 1..65535');
  }

  list(p: Path): number[] {
    const x = this.raw(p);
    if (x === undefined || x === null) {
      return [];
    }
    if (!Array.isArray(x) || !isSeq(this.doc.getIn(p, true))) {
      return this.err(p, 'expected a list');
    }
    return x.map((_, i) => i);
  }

  only(p: Path, keys: string[]): void {
    const x = this.raw(p);
    if (typeof x !== 'object' || x === null || Array.isArray(x)) {
      this.err(p, 'expected a mapping');
    }
    for (const k of Object.keys(x as object)) {
      if (!keys.includes(k)) {
        this.err([...p, k], `unknown setting (known: ${keys.join(', ')})`);
      }
    }
  }

  tags(p: Path): string[] {
    const x = this.raw(p);
    if (x === undefined || x === null) {
      return [];
    }
    try {
      return validateTags(x, { field: 'tags' });
    } catch (e) {
      if (e instanceof PolicyError) {
        const m = /\[(\d+)\]/.exec(e.path ?? '');
        return this.err(m ? [...p, Number(m[1])] : p, e.message);
      }
      throw e;
    }
  }
}
