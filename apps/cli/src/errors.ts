/**
 * The CLI's one error type. Every failure the user can see is a CliError with a stable `code`, so the
 * message printed is always one line, `palisade: <code>: <message> (field …)`, and the exit status tells a
 * script what kind of failure it was without parsing text.
 */

/** Exit statuses, chosen like curl/kubectl: 1 the API said no, 2 the command line is wrong, 3 no answer. */
export const ExitCode = {
  ok: 0,
  api: 1,
  usage: 2,
  connection: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One field-level problem, as the API's error envelope carries it in `details`. */
export interface FieldDetail {
  field: string;
  code?: string;
  message?: string;
}

export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    readonly fields: readonly FieldDetail[] = [],
    /** Set when the control plane answered: its request id, for matching the server's log line. */
    readonly requestId?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error: the command line or an input file is wrong; nothing was sent. Exit status 2. */
export function usageError(code: string, message: string): CliError {
  return new CliError(code, message, ExitCode.usage);
}

/**
 * Renders an error as the single line the CLI prints on stderr:
 * `palisade: <code>: <message>`, followed by ` (field <f>)` for one field-level detail or
 * ` (field <f>, +N more)` when the API named several, so the first thing to fix is always in view.
 */
export function formatError(err: CliError): string {
  let line = `palisade: ${err.code}: ${oneLine(err.message)}`;
  const first = err.fields[0];
  if (first) {
    const more = err.fields.length > 1 ? `, +${err.fields.length - 1} more` : '';
    const why = first.message ? `: ${oneLine(first.message)}` : '';
    line += ` (field ${first.field}${why}${more})`;
  }
  return line;
}

/** The second stderr line printed with --verbose: everything a bug report needs, still no secrets. */
export function formatErrorDetails(err: CliError): string[] {
  const lines: string[] = [];
  if (err.status !== undefined) {
    lines.push(`  status ${err.status}${err.requestId ? `, request ${err.requestId}` : ''}`);
  }
  for (const f of err.fields) {
    lines.push(`  field ${f.field}${f.code ? ` [${f.code}]` : ''}${f.message ? `: ${oneLine(f.message)}` : ''}`);
  }
  return lines;
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
