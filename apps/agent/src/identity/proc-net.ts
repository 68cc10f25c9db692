// /proc/net/tcp and /proc/net/tcp6 in the form the kernel prints them (net/ipv4/tcp_ipv4.c
// get_tcp4_sock): "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...", with addresses as the
// raw 32-bit words of the address printed %08X in host byte order, and ports %04X.
//
// We encode the wanted endpoint into that text form once and compare strings, instead of decoding
// every line of a table that can hold tens of thousands of sockets.
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';

const LITTLE = endianness() === 'LE';

/** '::ffff:1.2.3.4' → '1.2.3.4'; anything else unchanged. */
export function unmapIPv4(addr: string): string {
  return addr.toLowerCase().startsWith('::ffff:') && isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
}

function word(bytes: number[]): string {
  const b = LITTLE ? [...bytes].reverse() : bytes;
  return b.map((x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();
}

function ipv6Bytes(addr: string): number[] {
  // Expand '::' and an embedded dotted quad into 16 bytes.
  let a = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const q = v4[1].split('.').map(Number);
    a = a.slice(0, -v4[1].length) + `${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The /proc/net/tcp{,6} spellings of `addr:port` (an IPv4 address also appears IPv4-mapped in tcp6). */
export function procEndpoints(addr: string, port: number): { v4: string | null; v6: string | null } {
  const a = unmapIPv4(addr);
  const p = port.toString(16).toUpperCase().padStart(4, '0');
  if (isIPv4(a)) {
    const q = a.split('.').map(Number);
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...q];
    return { v4: `${word(q)}:${p}`, v6: `${sixWords(mapped)}:${p}` };
  }
  if (isIPv6(a)) {
    return { v4: null, v6: `${sixWords(ipv6Bytes(a))}:${p}` };
  }
  return { v4: null, v6: null };
}

function sixWords(bytes: number[]): string {
  return word(bytes.slice(0, 4)) + word(bytes.slice(4, 8)) + word(bytes.slice(8, 12)) + word(bytes.slice(12, 16));
}

export interface ProcSocket {
  inode: number;
  uid: number;
  /** True when the remote endpoint matched too (not just the local one). */
  exact: boolean;
}

/**
 * Finds the socket whose local endpoint is `local` in the current network namespace's TCP tables,
 * preferring one whose remote endpoint is also `remote` (explicit mode); in transparent mode the
 * client's socket still names the original destination, so a local-endpoint match is accepted.
 */
export function findProcSocket(local: { addr: string; port: number }, remote: { addr: string; port: number } | null): ProcSocket | null {
  const l = procEndpoints(local.addr, local.port);
  const r = remote ? procEndpoints(remote.addr, remote.port) : { v4: null, v6: null };
  let loose: ProcSocket | null = null;
  for (const [file, lw, rw] of [
    ['/proc/net/tcp', l.v4, r.v4],
    ['/proc/net/tcp6', l.v6, r.v6],
  ] as const) {
    if (!lw) {
      continue;
    }
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    let at = text.indexOf(` ${lw} `);
    while (at !== -1) {
      // The endpoint may be this line's local or remote field: parse the whole line to know which.
      const start = text.lastIndexOf('\n', at) + 1;
      const end = text.indexOf('\n', at);
      const fields = text.slice(start, end === -1 ? undefined : end).trim().split(/\s+/);
      // fields: sl local rem st tx:rx tr:when retrnsmt uid timeout inode
      const inode = Number(fields[9]);
      if (fields[1] === lw && inode > 0) {
        const hit = { inode, uid: Number(fields[7]), exact: rw !== null && fields[2] === rw };
        if (hit.exact) {
          return hit;
        }
        loose ??= hit;
      }
      at = text.indexOf(` ${lw} `, end === -1 ? text.length : end);
    }
  }
  return loose;
}
