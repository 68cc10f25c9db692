import { createHash } from 'node:crypto';

/**
 * Canonical JSON (in the spirit of RFC 8785): object keys sorted by code unit, no whitespace, `undefined`
 * members dropped, arrays kept in order. Two equal documents always give the same string, which is what
 * makes a rule set's hash a content address. Non-finite numbers are refused (they have no JSON form).
 */
export function canonicalJson(value: unknown): string {
  return write(value);
}

function write(v: unknown): string {
  if (v === null) {
    return 'null';
  }
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) {
        throw new TypeError('canonicalJson: non-finite number');
      }
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(v)) {
        // Fast path: arrays of strings (tags, terms, ports) are most of a rule set; the native encoder
        // produces exactly the canonical form for them.
        if (v.every((x) => typeof x === 'string')) {
          return JSON.stringify(v);
        }
        let s = '[';
        for (let i = 0; i < v.length; i++) {
          s += (i > 0 ? ',' : '') + (v[i] === undefined ? 'null' : write(v[i]));
        }
        return s + ']';
      }
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      let s = '{';
      let first = true;
      for (const k of keys) {
        if (o[k] === undefined) {
          continue;
        }
        s += (first ? '' : ',') + JSON.stringify(k) + ':' + write(o[k]);
        first = false;
      }
      return s + '}';
    }
    case 'bigint':
    case 'symbol':
    case 'undefined':
    case 'function':
      break;
  }
  throw new TypeError(`canonicalJson: cannot encode ${typeof v}`);
}

/** SHA-256 of a string, lower-case hex. node:crypto is plain computation, no I/O. */
export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** SHA-256 of the canonical JSON, lower-case hex. node:crypto is plain computation, no I/O. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
