/** Parsers for option values shared by several commands; each failure is a usage error naming the option. */
import { usageError } from '../errors';

/** Collects a repeatable, comma-separated tag option: `--tags a=1,b=2 --tags c=3` → `[a=1, b=2, c=3]`. */
export function collectTags(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((t) => t.trim()).filter((t) => t !== '')];
}

/** `tcp/8106` or a bare `8106` (taken as TCP), port 1–65535; returns the `proto/port` form the API wants. */
export function parsePortOption(value: string, option = '--port'): string {
  const m = /^(?:(tcp|udp)\/)?(\d{1,5})$/i.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw usageError('port_invalid', `${option} ${value}: expected tcp/PORT with PORT 1-65535, e.g. tcp/8106`);
  }
  return `${(m[1] ?? 'tcp').toLowerCase()}/${port}`;
}

/** A duration: seconds (`600`) or `1h30m`, `10m`, `90s`; returns whole seconds, at least 1. */
export function parseDuration(value: string, option = '--ttl'): number {
  const v = value.trim();
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  const seconds = /^\d+$/.test(v)
    ? Number(v)
    : m && v !== ''
      ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)
      : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw usageError('duration_invalid', `${option} ${value}: expected seconds or a duration like 10m, 1h30m`);
  }
  return seconds;
}

/** A positive integer option such as `--max-uses 3`. */
export function parsePositiveInt(value: string, option: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw usageError('number_invalid', `${option} ${value}: expected a whole number ≥ 1`);
  }
  return n;
}
