/**
 * A tiny structural validator for the control-channel messages. Both ends validate every inbound message with
 * it before acting on it; a message that fails is answered by closing that one connection (DESIGN.md §5).
 * Hand-written rather than a JSON-Schema engine: the message set is small, the checks are on the hot path of
 * every agent connection, and the errors name the exact field.
 */
export class ProtocolError extends Error {
  constructor(
    readonly code: 'message_malformed' | 'message_unknown_type' | 'message_too_large' | 'token_malformed',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export type Check<T> = (v: unknown, path: string) => T;

const fail = (path: string, what: string): never => {
  throw new ProtocolError('message_malformed', `${path}: ${what}`, path);
};

export const str =
  (max = 4096): Check<string> =>
  (v, p) =>
    typeof v === 'string' && v.length <= max ? v : fail(p, `expected a string of at most ${max} characters`);

export const int =
  (min = 0, max = Number.MAX_SAFE_INTEGER): Check<number> =>
  (v, p) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? v
      : fail(p, `expected an integer in ${min}..${max}`);

export const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, 'expected a boolean'));

export const oneOf =
  <T extends string>(...values: T[]): Check<T> =>
  (v, p) =>
    typeof v === 'string' && (values as string[]).includes(v) ? (v as T) : fail(p, `expected one of ${values.join('|')}`);

export const arr =
  <T>(item: Check<T>, max = 10_000): Check<T[]> =>
  (v, p) => {
    if (!Array.isArray(v) || v.length > max) {
      return fail(p, `expected an array of at most ${max} items`);
    }
    return v.map((x, i) => item(x, `${p}[${i}]`));
  };

export const nullable =
  <T>(c: Check<T>): Check<T | null> =>
  (v, p) =>
    v === null || v === undefined ? null : c(v, p);

export const optional =
  <T>(c: Check<T>): Check<T | undefined> =>
  (v, p) =>
    v === undefined ? undefined : c(v, p);

export const any: Check<unknown> = (v) => v;

type Shape = Record<string, Check<unknown>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** Fields whose check may yield undefined (`optional`) are optional properties; all others are required. */
type Out<S extends Shape> = Simplify<
  { [K in keyof S as undefined extends ReturnType<S[K]> ? never : K]: ReturnType<S[K]> } & {
    [K in keyof S as undefined extends ReturnType<S[K]> ? K : never]?: Exclude<ReturnType<S[K]>, undefined>;
  }
>;

/** An object with exactly these fields (unknown fields are refused, so a typo never passes silently). */
export const obj =
  <S extends Shape>(shape: S): Check<Out<S>> =>
  (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return fail(p, 'expected an object');
    }
    const rec = v as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (!(k in shape)) {
        fail(`${p}.${k}`, 'unknown field');
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, c] of Object.entries(shape)) {
      const val = c(rec[k], `${p}.${k}`);
      if (val !== undefined) {
        out[k] = val;
      }
    }
    return out as Out<S>;
  };
