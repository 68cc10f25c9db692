import { PolicyError } from './errors';

/** Longest tag we accept; tags travel inside every certificate, so they stay small. */
export const MAX_TAG_LENGTH = 1024;

// A key: optional leading '$' (system), then no whitespace and none of the operator characters, so that
// every selector term parses one way only. A value: non-empty, no whitespace, and no '*' (a trailing '*'
// in a selector term means "prefix", so a literal '*' in a value could never be matched exactly).
const KEY = /^\$?[^\s=!*$][^\s=!*]*$/;
const VALUE = /^[^\s*]+$/;

/**
 * Splits `key=value` at the first '=' and checks both halves against the tag grammar (README rule 1).
 * Throws `PolicyError('tag_malformed', path)`; never returns a partial result.
 */
export function parseTag(tag: string, path = 'tag'): { key: string; value: string } {
  if (typeof tag !== 'string') {
    throw new PolicyError('tag_malformed', path, 'a tag must be a string "key=value"');
  }
  if (tag.length > MAX_TAG_LENGTH) {
    throw new PolicyError('tag_malformed', path, `a tag must be at most ${MAX_TAG_LENGTH} characters`);
  }
  const eq = tag.indexOf('=');
  if (eq <= 0) {
    throw new PolicyError('tag_malformed', path, `"${tag}" is not of the form key=value`);
  }
  const key = tag.slice(0, eq);
  const value = tag.slice(eq + 1);
  if (!KEY.test(key)) {
    throw new PolicyError('tag_malformed', path, `"${key}" is not a valid tag key`);
  }
  if (!VALUE.test(value)) {
    throw new PolicyError('tag_malformed', path, `"${tag}" has an empty or invalid value`);
  }
  return { key, value };
}

/** True when the tag's key starts with '$': a system tag only Palisade itself may set. */
export function isSystemTag(tag: string): boolean {
  return tag.charCodeAt(0) === 36; // '$'
}

/**
 * Validates a list of user tags (e.g. `associatedTags`) and returns it normalised: sorted (code-unit
 * order) and without duplicates. Refuses system tags unless `allowSystem` — users can never forge
 * `$identity=admin` (README rule 1). The error path is `<field>[i]`.
 */
export function validateTags(tags: unknown, opts: { field?: string; allowSystem?: boolean } = {}): string[] {
  const field = opts.field ?? 'tags';
  if (!Array.isArray(tags)) {
    throw new PolicyError('tags_not_array', field, 'must be an array of "key=value" strings');
  }
  tags.forEach((t: unknown, i) => {
    const path = `${field}[${i}]`;
    if (typeof t !== 'string') {
      throw new PolicyError('tag_malformed', path, 'a tag must be a string "key=value"');
    }
    parseTag(t, path);
    if (!opts.allowSystem && isSystemTag(t)) {
      throw new PolicyError('tag_system_forbidden', path, `"${t}" is a system tag; only Palisade sets $ tags`);
    }
  });
  return sortUnique(tags as string[]);
}

/** Sorted copy without duplicates, in plain code-unit order (locale-independent, hence deterministic). */
export function sortUnique(xs: readonly string[]): string[] {
  const out = [...new Set(xs)];
  out.sort(compareStrings);
  return out;
}

/** Code-unit string order; `localeCompare` would make compiled bytes depend on the host's locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
