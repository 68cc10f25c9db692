/**
 * Rendering. `table` is for people (kubectl's layout: upper-case headers, columns padded to the widest
 * cell, three spaces apart, no borders, so `grep` and `awk` still work); `yaml` and `json` are for
 * scripts and round trips and print the API's objects unchanged.
 */
import { stringify } from 'yaml';
import { type Column } from './identities';
import { usageError } from './errors';

export type OutputFormat = 'table' | 'yaml' | 'json';

/** Parses `-o`; anything else is a usage error naming the allowed values. */
export function parseFormat(value: string, allowed: readonly OutputFormat[]): OutputFormat {
  const found = allowed.find((f) => f === value);
  if (!found) {
    throw usageError('output_invalid', `-o ${value}: expected one of ${allowed.join(', ')}`);
  }
  return found;
}

/** JSON as the API would print it: two-space indent, a final newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** YAML 1.2 with the `yaml` package's defaults, which the import accepts back as it is. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** Renders one table cell: selectors as `a & b OR c`, lists comma-separated, absent values as `-`. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') {
    return '-';
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return '-';
    }
    if (value.every(Array.isArray)) {
      return (value as unknown[][]).map((clause) => clause.map(String).join(' & ')).join(' OR ');
    }
    return value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(',');
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** A plain-text table with a header row; every line ends without trailing blanks. */
export function toTable(columns: readonly Column[], rows: readonly Record<string, unknown>[]): string {
  const grid = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.get(r))))];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => line[i].length)));
  return grid.map((line) => line.map((v, i) => v.padEnd(widths[i])).join('   ').trimEnd()).join('\n') + '\n';
}
