// The tags extension: the PU's effective tags, signed by the CA, so a peer evaluates policy on tags it reads
// from the certificate and cannot forge. Value = DER `SEQUENCE OF UTF8String`, one per tag, sorted by code
// unit and unique — one canonical encoding per tag set, so equal tag sets give byte-equal extensions.
// Encoded and decoded with our small DER helpers so the decoder can be strict: minimal lengths, no
// trailing bytes, valid UTF-8, UTF8String elements only; anything else is `extension_malformed`.
import { PkiError } from './errors';
import { readTlv, tlv } from './der';

/**
 * The project's OID for the tags extension, under the private-enterprise arc 1.3.6.1.4.1.57264 ("1.1" =
 * Palisade certificate extensions, first one). Never reuse it for another syntax: a new format gets a new OID.
 */
export const TAGS_OID = '1.3.6.1.4.1.57264.1.1';

const SEQUENCE = 0x30;
const UTF8_STRING = 0x0c;
export const TAG_MAX_LENGTH = 1024;
export const TAGS_MAX = 512;

/**
 * Validates and normalises tags for a certificate: strings of 1-1024 characters with no control characters,
 * at most 512 of them; returns them sorted and de-duplicated. Throws PkiError('tags_malformed').
 */
export function normalizeCertTags(tags: unknown, field = 'tags'): string[] {
  if (!Array.isArray(tags)) {
    throw new PkiError('tags_malformed', `${field} must be an array of strings`, field);
  }
  if (tags.length > TAGS_MAX) {
    throw new PkiError('tags_malformed', `${field} holds more than ${TAGS_MAX} tags`, field);
  }
  tags.forEach((t, i) => {
    if (
      typeof t !== 'string' ||
      t.length === 0 ||
      t.length > TAG_MAX_LENGTH ||
      /[\u0000-\u001f\u007f]/.test(t)
    ) {
      throw new PkiError(
        'tags_malformed',
        `${field}[${i}] must be a string of 1-${TAG_MAX_LENGTH} printable characters`,
        `${field}[${i}]`,
      );
    }
  });
  return [...new Set(tags as string[])].sort();
}

/** DER value of the tags extension for already-normalised tags. */
export function encodeTags(sortedTags: readonly string[]): Buffer {
  return tlv(SEQUENCE, Buffer.concat(sortedTags.map((t) => tlv(UTF8_STRING, Buffer.from(t, 'utf8')))));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the tags extension value. Throws PkiError('extension_malformed') unless it is exactly one DER
 * SEQUENCE OF valid UTF8String, sorted and unique.
 */
export function decodeTags(value: Uint8Array, field = 'tags extension'): string[] {
  const bad = (why: string): never => {
    throw new PkiError('extension_malformed', `${field} (${TAGS_OID}) is malformed: ${why}`, field);
  };
  const seq = readTlv(value, 0, value.length);
  if (!seq || seq.tag !== SEQUENCE || seq.end !== value.length) {
    return bad('not a single DER SEQUENCE');
  }
  const tags: string[] = [];
  for (let pos = seq.start; pos < seq.end; ) {
    const el = readTlv(value, pos, seq.end);
    if (!el || el.tag !== UTF8_STRING) {
      return bad('an element is not a DER UTF8String');
    }
    let s: string;
    try {
      s = utf8.decode(value.subarray(el.start, el.end));
    } catch {
      return bad('an element is not valid UTF-8');
    }
    if (tags.length > 0 && !(tags[tags.length - 1] < s)) {
      return bad('tags are not sorted and unique');
    }
    tags.push(s);
    pos = el.end;
  }
  return tags;
}
