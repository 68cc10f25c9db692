// The "only TLS 1.3 on the wire" predicate, over tshark's TLS view of a capture. Kept pure (no tshark, no
// files) so its rules are readable in one place and each can be pinned by a test.
import { readTlsSegments, type TlsSegment } from './tshark-read';

export type Tls13ViolationReason =
  | 'not_a_tls_record' // a payload segment that is neither a TLS record nor part of one
  | 'content_type_unexpected' // a record type outside 20–23
  | 'record_version_unexpected' // a record-layer version other than 0x0303 (or 0x0301 on a ClientHello)
  | 'no_server_hello' // a stream with payload but no ServerHello: its version cannot be shown to be 1.3
  | 'not_tls13'; // the ServerHello negotiated something other than TLS 1.3 (0x0304)

export interface Tls13Violation {
  frame: number;
  stream: number;
  reason: Tls13ViolationReason;
  detail: string;
}

export interface Tls13Report {
  /** True when there was at least one segment and no violation. */
  ok: boolean;
  segments: number;
  /** Each TCP stream seen and the version its ServerHello negotiated (0x0304 = TLS 1.3), or null. */
  streams: { stream: number; negotiated: number | null }[];
  violations: Tls13Violation[];
}

const TLS13 = 0x0304;
const CONTENT_TYPES = new Set([20, 21, 22, 23]);
const RECORD_VERSIONS = new Set([0x0303, 0x0301]); // RFC 8446 §5.1: legacy_record_version
const SERVER_HELLO = 2;

/**
 * Decide whether every segment is TLS 1.3: each payload segment is (part of) a TLS record with an allowed
 * content type and record version, and every stream's ServerHello selected 0x0304 through the
 * supported_versions extension (RFC 8446 §4.2.1: the record and legacy_version fields say 1.2 in TLS 1.3).
 * An empty capture is not ok: "nothing seen" must never pass for "only TLS seen".
 */
export function evaluateTls13(segments: readonly TlsSegment[]): Tls13Report {
  const byFrame = new Map(segments.map((s) => [s.frame, s]));
  const violations: Tls13Violation[] = [];
  const streams = new Map<number, number | null>();
  const add = (s: TlsSegment, reason: Tls13ViolationReason, detail: string): void => {
    violations.push({ frame: s.frame, stream: s.stream, reason, detail });
  };
  for (const s of segments) {
    if (!streams.has(s.stream)) {
      streams.set(s.stream, null);
    }
    if (s.contentTypes.length === 0) {
      const whole = s.reassembledIn === null ? undefined : byFrame.get(s.reassembledIn);
      if (!whole || whole.contentTypes.length === 0) {
        add(
          s,
          'not_a_tls_record',
          `frame ${s.frame} ${s.srcPort}->${s.dstPort} is ${s.protocol || 'not TLS'}`,
        );
      }
      continue;
    }
    for (const t of s.contentTypes.filter((t) => !CONTENT_TYPES.has(t))) {
      add(s, 'content_type_unexpected', `content type ${t}`);
    }
    for (const v of s.recordVersions.filter((v) => !RECORD_VERSIONS.has(v))) {
      add(s, 'record_version_unexpected', `record version 0x${v.toString(16).padStart(4, '0')}`);
    }
    if (s.handshakeTypes.includes(SERVER_HELLO)) {
      streams.set(s.stream, s.supportedVersions.includes(TLS13) ? TLS13 : (s.recordVersions[0] ?? 0));
    }
  }
  for (const [stream, negotiated] of streams) {
    const first = segments.find((s) => s.stream === stream);
    if (!first) {
      continue;
    }
    if (negotiated === null) {
      add(first, 'no_server_hello', `stream ${stream} has no ServerHello in the capture`);
    } else if (negotiated !== TLS13) {
      add(first, 'not_tls13', `stream ${stream} negotiated 0x${negotiated.toString(16).padStart(4, '0')}`);
    }
  }
  return {
    ok: segments.length > 0 && violations.length === 0,
    segments: segments.length,
    streams: [...streams].map(([stream, negotiated]) => ({ stream, negotiated })),
    violations,
  };
}

/** Read `file` with tshark (ports decoded as TLS) and evaluate it; see evaluateTls13. */
export async function checkTls13Only(file: string, ports: readonly number[]): Promise<Tls13Report> {
  return evaluateTls13(await readTlsSegments(file, ports));
}
