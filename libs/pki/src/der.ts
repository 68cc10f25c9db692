// A minimal, strict DER reader and writer (X.690) — just what the leaf-issuance hot path needs.
//
// Why not @peculiar/x509 there: its generator builds each certificate through several ASN.1 object-model
// round trips (asn1js) and re-parses the result, ~10 ms per leaf on this machine, when the signature itself
// costs 0.1 ms. A leaf is a fixed template (README.md, "Certificate profile") whose variable parts are a
// handful of TLVs, so we write those bytes directly, as Go's crypto/x509 does with its cryptobyte builder.
// CA creation, CSR creation and all parsing/verification still go through @peculiar/x509.

/** One decoded TLV: `tag`, the value bytes [start, end), and the whole encoding [pos, end). */
export interface Tlv {
  tag: number;
  pos: number;
  start: number;
  end: number;
}

/** Reads one DER TLV at `pos` within [pos, end); null unless lengths are minimal DER and fit. */
export function readTlv(buf: Uint8Array, pos: number, end: number): Tlv | null {
  if (pos + 2 > end) {
    return null;
  }
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) {
    return null; // high tag numbers never occur in the structures we read
  }
  let len = buf[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // DER: long form only for lengths ≥ 128, no leading zero byte; 4 bytes is far more than any input needs.
    if (n === 0 || n > 4 || start + n > end || buf[start] === 0) {
      return null;
    }
    len = 0;
    for (let i = 0; i < n; i++) {
      len = len * 256 + buf[start + i];
    }
    if (len < 0x80) {
      return null;
    }
    start += n;
  }
  if (start + len > end) {
    return null;
  }
  return { tag, pos, start, end: start + len };
}

/** The children of a constructed TLV, or null if they do not exactly fill it. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] | null {
  const out: Tlv[] = [];
  for (let p = parent.start; p < parent.end; ) {
    const t = readTlv(buf, p, parent.end);
    if (!t) {
      return null;
    }
    out.push(t);
    p = t.end;
  }
  return out;
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) {
    return Buffer.from([n]);
  }
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) {
    bytes.unshift(v & 0xff);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...value: Uint8Array[]): Buffer {
  const v = Buffer.concat(value);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(v.length), v]);
}

export const seq = (...v: Uint8Array[]): Buffer => tlv(0x30, ...v);
export const set = (...v: Uint8Array[]): Buffer => tlv(0x31, ...v);
export const octetString = (v: Uint8Array): Buffer => tlv(0x04, v);
export const utf8String = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
/** BIT STRING with no unused bits. */
export const bitString = (v: Uint8Array): Buffer => tlv(0x03, Buffer.from([0]), v);
export const TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** A non-negative INTEGER from big-endian hex (a 00 byte is prepended when the top bit is set). */
export function uintFromHex(hex: string): Buffer {
  let b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && !(b[i + 1] & 0x80)) {
    i++;
  }
  b = b.subarray(i);
  return tlv(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) {
      chunk.unshift(0x80 | (v & 0x7f));
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** RFC 5280 §4.1.2.5: UTCTime for 1950–2049, GeneralizedTime otherwise; always whole seconds in UTC. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

/** An X.509 Extension: SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), TRUE, octetString(value)) : seq(oid(id), octetString(value));
}
