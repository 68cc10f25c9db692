import { createHash } from 'node:crypto';

/**
 * Canonical JSON (in the spirit of RFC 8785): object keys sorted by code unit, no whitespace, `undefined`
 * members dropped, arrays kept in order. Two equal documents always give the same string, which is what
 * makes a rule set's hash a content address. Non-finite numbers are refused (they have no JSON form).
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

function write(v: unknown, out: string[]): void {
  if (v === null) {
    out.push('null');
    return;
  }
  switch (typeof v) {
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'number':
      if (!Number.isFinite(v)) {
        throw new TypeError('canonicalJson: non-finite number');
      }
      out.push(JSON.stringify(v));
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'object': {
      if (Array.isArray(v)) {
        out.push('[');
        v.forEach((x: unknown, i) => {
          if (i > 0) {
            out.push(',');
          }
          write(x === undefined ? null : x, out);
        });
        out.push(']');
        return;
      }
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      out.push('{');
      keys.forEach((k, i) => {
        if (i > 0) {
          out.push(',');
        }
        out.push(JSON.stringify(k), ':');
        write(o[k], out);
      });
      out.push('}');
      return;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof v}`);
  }
}

/** SHA-256 of the canonical JSON, lower-case hex. node:crypto is plain computation, no I/O. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
