import { PolicyError } from './errors';
import { compareStrings } from './tags';

const KEY = /^\$?[^\s=!*$][^\s=!*]*$/;
const VALUE = /^[^\s*]+$/;

/**
 * One selector term reduced to a single test on a tag list: does some tag equal (or start with) `needle`,
 * negated or not. Because a key never contains '=', `k=v*` is "some tag starts with `k=v`", `k=*` is
 * "some tag starts with `k=`", `k!=v` is "no tag equals `k=v`" and `k!=*` is "no tag starts with `k=`".
 */
export interface Term {
  readonly text: string;
  readonly key: string;
  readonly needle: string;
  readonly prefix: boolean;
  readonly negate: boolean;
}

/** Parses one selector term (README rule 2); throws `selector_term_malformed` naming `path`. */
export function parseTerm(text: unknown, path = 'term'): Term {
  if (typeof text !== 'string') {
    throw new PolicyError('selector_term_malformed', path, 'a selector term must be a string');
  }
  const bad = (why: string): never => {
    throw new PolicyError('selector_term_malformed', path, `"${text}" ${why}`);
  };
  const eq = text.indexOf('=');
  if (eq <= 0) {
    return bad('is not of the form key=value, key=value*, key=*, key!=value or key!=*');
  }
  const negate = text.charCodeAt(eq - 1) === 33; // '!'
  const key = text.slice(0, negate ? eq - 1 : eq);
  const value = text.slice(eq + 1);
  if (!KEY.test(key)) {
    return bad(`has an invalid key "${key}"`);
  }
  if (value === '*') {
    return { text, key, needle: `${key}=`, prefix: true, negate };
  }
  if (value.endsWith('*')) {
    if (negate) {
      return bad('uses a prefix with != (only key!=value and key!=* exist)');
    }
    const stem = value.slice(0, -1);
    if (!VALUE.test(stem)) {
      return bad('has an invalid prefix');
    }
    return { text, key, needle: `${key}=${stem}`, prefix: true, negate };
  }
  if (!VALUE.test(value)) {
    return bad('has an empty or invalid value');
  }
  return { text, key, needle: `${key}=${value}`, prefix: false, negate };
}

/** Does one term hold on a tag list? Linear in the tags: peers carry a handful, a Set would cost more. */
export function termHolds(t: Term, tags: readonly string[]): boolean {
  let found = false;
  if (t.prefix) {
    for (let i = 0; i < tags.length; i++) {
      if (tags[i].startsWith(t.needle)) {
        found = true;
        break;
      }
    }
  } else {
    for (let i = 0; i < tags.length; i++) {
      if (tags[i] === t.needle) {
        found = true;
        break;
      }
    }
  }
  return found !== t.negate;
}

/** Does every term of an AND clause hold? */
export function clauseHolds(clause: readonly Term[], tags: readonly string[]): boolean {
  for (let i = 0; i < clause.length; i++) {
    if (!termHolds(clause[i], tags)) {
      return false;
    }
  }
  return true;
}

/**
 * Validates a selector (`string[][]`, OR of AND clauses) and returns its normal form: each clause's terms
 * sorted, identical clauses merged, clauses sorted (README rule 2). Idempotent, and equal selectors
 * normalise to equal values. Refuses a non-array (`selector_not_array`), an empty outer list
 * (`selector_empty`: it would match nothing), an empty clause (`selector_clause_empty`: `[[]]` would match
 * everything by accident), a repeated term in one clause (`selector_term_duplicate`) and a malformed term
 * (`selector_term_malformed`); the error path names clause and term, e.g. `subject[0][1]`.
 */
export function normalizeSelector(sel: unknown, field = 'selector'): string[][] {
  if (!Array.isArray(sel)) {
    throw new PolicyError('selector_not_array', field, 'must be a list of clauses (string[][])');
  }
  if (sel.length === 0) {
    throw new PolicyError('selector_empty', field, 'must have at least one clause');
  }
  const clauses = new Map<string, string[]>();
  sel.forEach((clause: unknown, i) => {
    const cpath = `${field}[${i}]`;
    if (!Array.isArray(clause)) {
      throw new PolicyError('selector_not_array', cpath, 'a clause must be a list of terms (string[])');
    }
    if (clause.length === 0) {
      throw new PolicyError('selector_clause_empty', cpath, 'a clause must have at least one term');
    }
    const seen = new Set<string>();
    clause.forEach((term: unknown, j) => {
      const tpath = `${cpath}[${j}]`;
      const t = parseTerm(term, tpath);
      if (seen.has(t.text)) {
        throw new PolicyError('selector_term_duplicate', tpath, `"${t.text}" appears twice in one clause`);
      }
      seen.add(t.text);
    });
    const terms = [...seen].sort(compareStrings);
    clauses.set(JSON.stringify(terms), terms);
  });
  return [...clauses.entries()].sort((a, b) => compareStrings(a[0], b[0])).map((e) => e[1]);
}

/** Parses an already-normalised selector into terms (no validation beyond term syntax). */
export function compileSelector(sel: readonly (readonly string[])[]): Term[][] {
  return sel.map((c, i) => c.map((t, j) => parseTerm(t, `selector[${i}][${j}]`)));
}

const compiledCache = new WeakMap<readonly (readonly string[])[], Term[][]>();

/**
 * True when some clause of `sel` holds for `tags` (README rule 2). `sel` must be valid (normalised or not);
 * a malformed term throws. Parsed selectors are cached per array object, so repeated calls are cheap.
 */
export function matchSelector(
  sel: readonly (readonly string[])[],
  tags: ReadonlySet<string> | readonly string[],
): boolean {
  let compiled = compiledCache.get(sel);
  if (!compiled) {
    compiled = compileSelector(sel);
    compiledCache.set(sel, compiled);
  }
  const list: readonly string[] = Array.isArray(tags) ? tags : [...(tags as ReadonlySet<string>)];
  return compiled.some((c) => clauseHolds(c, list));
}
