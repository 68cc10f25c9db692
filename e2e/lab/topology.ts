// The lab's fixed topology: which hosts exist, their addresses and names. Kept in one place so the README,
// the hosts files, HAProxy's config and the tests cannot disagree.

/** The hosts of the lab. `cp` runs the control plane, `lb` HAProxy, `rogue` has no agent. */
export const LAB_HOSTS = ['cp', 'lb', 'server', 'client', 'rogue'] as const;
export type LabHost = (typeof LAB_HOSTS)[number];

/**
 * The lab's subnet. 198.18.0.0/15 is reserved for benchmarking network devices (RFC 2544 §C.2.2), so it is
 * never routed anywhere real; every lab lives in its own namespaces, so several labs may reuse it at once.
 */
export const LAB_SUBNET = '198.18.0.0/24';
export const LAB_PREFIX_LENGTH = 24;

/** The address of each host on the lab network (interface `eth0` in the host's namespace). */
export const LAB_ADDRESSES: Readonly<Record<LabHost, string>> = {
  cp: '198.18.0.10',
  lb: '198.18.0.20',
  server: '198.18.0.30',
  client: '198.18.0.40',
  rogue: '198.18.0.50',
};

/** The seed scenario's load-balancer host name (examples/seed-lb-service.yaml); it resolves to the lb. */
export const SEED_LB_HOSTNAME = 'internal-lbtest3-1743880535.us-west-1.elb.amazonaws.com';

/** The names each host resolves through its namespace's hosts file. */
export const LAB_NAMES: Readonly<Record<LabHost, readonly string[]>> = {
  cp: ['cp.lab', 'cp'],
  lb: ['lb.lab', 'lb', SEED_LB_HOSTNAME],
  server: ['server.lab', 'server'],
  client: ['client.lab', 'client'],
  rogue: ['rogue.lab', 'rogue'],
};

/** Ports of the seed scenario: clients dial the lb on 7106, HAProxy forwards to the server's 8106. */
export const LB_PORT = 7106;
export const SERVER_PORT = 8106;

/** The name of the interface each host has on the lab network. */
export const LAB_INTERFACE = 'eth0';

/** Namespace prefixes are short so `<prefix>-server` stays readable and well under NAME_MAX. */
export const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,11}$/;

/** Is `h` one of the lab's hosts? */
export function isLabHost(h: string): h is LabHost {
  return (LAB_HOSTS as readonly string[]).includes(h);
}

/**
 * The hosts file every lab namespace gets (`ip netns exec` bind-mounts /etc/netns/<ns>/hosts over
 * /etc/hosts). Only IPv4 names: the lab disables IPv6 so captures hold nothing but the lab's traffic.
 */
export function renderHostsFile(self: LabHost): string {
  const lines = ['# written by the Palisade e2e lab; removed by Lab.destroy()', '127.0.0.1\tlocalhost'];
  for (const h of LAB_HOSTS) {
    lines.push(`${LAB_ADDRESSES[h]}\t${LAB_NAMES[h].join(' ')}`);
  }
  lines.push(`# this namespace is ${self}`);
  return lines.join('\n') + '\n';
}
