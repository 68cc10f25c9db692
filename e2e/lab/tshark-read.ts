// Reading a capture back with tshark: the raw TCP payloads (to look for a marker that must never leak) and
// a TLS record summary (to assert that everything on the protected ports is TLS 1.3).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { LabError } from './errors';

const run = promisify(execFile);

/** Run `tshark -r file ARGS -T fields -e …` and return one array of field strings per frame. */
async function fields(file: string, args: readonly string[], names: readonly string[]): Promise<string[][]> {
  const argv = [
    '-n',
    '-r',
    file,
    ...args,
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=a',
    '-E',
    'aggregator=,',
  ];
  for (const n of names) {
    argv.push('-e', n);
  }
  try {
    const { stdout } = await run('tshark', argv, { maxBuffer: 256 << 20 });
    return stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => l.split('\t'));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new LabError('command_failed', `tshark -r ${file}: ${(e.stderr ?? e.message).trim()}`);
  }
}

const list = (s: string | undefined): number[] => (s ? s.split(',').filter(Boolean).map(Number) : []);

/** One TCP segment that carried payload. */
export interface TcpSegment {
  frame: number;
  stream: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

/**
 * Every TCP segment with a payload, as it was on the wire (TCP reassembly off, so each frame's own bytes),
 * optionally only those with `ports` as source or destination port.
 */
export async function readTcpSegments(
  file: string,
  opts: { ports?: readonly number[] } = {},
): Promise<TcpSegment[]> {
  const ports = opts.ports?.length ? ` && (${opts.ports.map((p) => `tcp.port == ${p}`).join(' || ')})` : '';
  const rows = await fields(
    file,
    ['-o', 'tcp.desegment_tcp_streams:FALSE', '-Y', `tcp.len > 0${ports}`],
    ['frame.number', 'tcp.stream', 'ip.src', 'tcp.srcport', 'ip.dst', 'tcp.dstport', 'tcp.payload'],
  );
  return rows.map((f) => ({
    frame: Number(f[0]),
    stream: Number(f[1]),
    src: f[2],
    srcPort: Number(f[3]),
    dst: f[4],
    dstPort: Number(f[5]),
    payload: Buffer.from((f[6] ?? '').replace(/:/g, ''), 'hex'),
  }));
}

/** Where a marker was found in a capture. */
export interface MarkerHits {
  found: boolean;
  /** The marker's bytes appear somewhere in the capture file itself (independent of any dissection). */
  inFile: boolean;
  /** Streams (tcp.stream index and sending port) whose reassembled bytes contain it (split across segments too). */
  streams: { stream: number; srcPort: number }[];
}

/**
 * Look for `marker` in a capture two ways: in the raw file, and in each direction of each TCP stream's
 * concatenated payload (so a marker split across segments is found too). A test that says "the marker never
 * appears" asserts `found === false`; the lab's own test proves this finds plaintext when it is there.
 */
export async function findMarker(file: string, marker: string | Buffer): Promise<MarkerHits> {
  const needle = Buffer.isBuffer(marker) ? marker : Buffer.from(marker);
  const inFile = (await readFile(file)).includes(needle);
  const byDirection = new Map<string, { stream: number; srcPort: number; parts: Buffer[] }>();
  for (const s of await readTcpSegments(file)) {
    const key = `${s.stream}/${s.srcPort}`;
    const d = byDirection.get(key) ?? { stream: s.stream, srcPort: s.srcPort, parts: [] };
    d.parts.push(s.payload);
    byDirection.set(key, d);
  }
  const streams = [...byDirection.values()]
    .filter((d) => Buffer.concat(d.parts).includes(needle))
    .map(({ stream, srcPort }) => ({ stream, srcPort }));
  return { found: inFile || streams.length > 0, inFile, streams };
}

/** The TLS view of one TCP segment with payload, as tshark's TLS dissector sees it. */
export interface TlsSegment {
  frame: number;
  stream: number;
  srcPort: number;
  dstPort: number;
  /** Record-layer versions (0x0303 for TLS 1.2 and 1.3 records, 0x0301 on a first ClientHello). */
  recordVersions: number[];
  /**
   * Record content types: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data. For TLS 1.3's
   * encrypted records tshark names the field `tls.record.opaque_type`; both are merged here in frame order.
   */
  contentTypes: number[];
  /** Handshake message types visible in clear (1 ClientHello, 2 ServerHello, …). */
  handshakeTypes: number[];
  /** supported_versions extension values (a ServerHello's single value is the negotiated version). */
  supportedVersions: number[];
  /** When this segment is only part of a record, the frame where tshark reassembled it. */
  reassembledIn: number | null;
  /** tshark's protocol column (e.g. "TLSv1.3", "TCP"). */
  protocol: string;
}

/**
 * The TLS record summary of every payload-carrying TCP segment on `ports`, decoding those ports as TLS
 * (`-d tcp.port==P,tls`, since they are not TLS's registered ports).
 */
export async function readTlsSegments(file: string, ports: readonly number[]): Promise<TlsSegment[]> {
  const decode = ports.flatMap((p) => ['-d', `tcp.port==${p},tls`]);
  const filter = `tcp.len > 0 && (${ports.map((p) => `tcp.port == ${p}`).join(' || ')})`;
  const rows = await fields(
    file,
    [...decode, '-Y', filter],
    [
      'frame.number',
      'tcp.stream',
      'tcp.srcport',
      'tcp.dstport',
      'tls.record.version',
      'tls.record.content_type',
      'tls.record.opaque_type',
      'tls.handshake.type',
      'tls.handshake.extensions.supported_version',
      'tcp.reassembled_in',
      '_ws.col.Protocol',
    ],
  );
  return rows.map((f) => ({
    frame: Number(f[0]),
    stream: Number(f[1]),
    srcPort: Number(f[2]),
    dstPort: Number(f[3]),
    recordVersions: list(f[4]),
    contentTypes: [...list(f[5]), ...list(f[6])],
    handshakeTypes: list(f[7]),
    supportedVersions: list(f[8]),
    reassembledIn: f[9] ? Number(f[9]) : null,
    protocol: f[10] ?? '',
  }));
}
