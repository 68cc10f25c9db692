/**
 * `palisade apply -f FILE`: sends an import document (Aporeto format, YAML or JSON) to `POST /v1/import`,
 * which applies it in one transaction. The file is parsed here first so that a syntax error is reported
 * with its line before anything is sent, and sent as JSON so the server parses one format only.
 */
import { readFile } from 'node:fs/promises';
import { type Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { type Context, type GlobalOptions } from '../context';
import { usageError } from '../errors';
import { IDENTITIES } from '../identities';

interface ApplyOptions {
  file: string;
  namespace?: string;
  createNamespaces?: boolean;
}

/** An import document as far as the CLI checks it; the API validates every field. */
export interface ImportDocument {
  APIVersion?: number;
  label?: string;
  data: Record<string, unknown>;
  identities?: string[];
}

/**
 * Parses the text of an import document. Exactly one YAML/JSON document holding a `data` object;
 * anything else is a usage error (`file_invalid`) naming the file and, for syntax errors, the line.
 * Several documents in one file are refused because one `apply` is one all-or-nothing import.
 */
export function parseImportDocument(text: string, file: string): ImportDocument {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  if (docs.length === 0) {
    throw usageError('file_invalid', `${file}: empty document`);
  }
  if (docs.length > 1) {
    throw usageError('file_invalid', `${file}: holds ${docs.length} documents; apply them one file at a time`);
  }
  const doc = docs[0];
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0].line;
    throw usageError('file_invalid', `${file}${line ? `:${line}` : ''}: ${first.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS();
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw usageError('file_invalid', `${file}: not an import document (expected a mapping with APIVersion and data)`);
  }
  const data = (value as Record<string, unknown>).data;
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw usageError('file_invalid', `${file}: not an import document (no "data" mapping)`);
  }
  return value as ImportDocument;
}

/** One line per object in the document, `service/NAME`, in document order. */
export function describeObjects(doc: ImportDocument): string[] {
  const lines: string[] = [];
  for (const [key, list] of Object.entries(doc.data)) {
    const singular = IDENTITIES.find((i) => i.plural === key)?.singular ?? key;
    for (const o of Array.isArray(list) ? list : []) {
      const name = o && typeof o === 'object' ? (o as { name?: unknown }).name : undefined;
      lines.push(`${singular}/${typeof name === 'string' ? name : '(unnamed)'}`);
    }
  }
  return lines;
}

export function registerApply(program: Command, ctx: Context): void {
  program
    .command('apply')
    .description('import a document (YAML or JSON, Aporeto format) in one all-or-nothing transaction')
    .requiredOption('-f, --file <file>', 'the document ("-" reads stdin)')
    .option('-n, --namespace <namespace>', 'namespace for objects that do not name one')
    .option('--create-namespaces', 'create namespaces the document names that do not exist yet')
    .action(async (opts: ApplyOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const label = opts.file === '-' ? '<stdin>' : opts.file;
      let text: string;
      if (opts.file === '-') {
        text = await ctx.readStdin();
      } else {
        try {
          text = await readFile(opts.file, 'utf8');
        } catch (err) {
          throw usageError('file_unreadable', `cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      const doc = parseImportDocument(text, label);
      const client = await ctx.client(globals);
      await client.request('POST', '/v1/import', {
        query: { namespace: opts.namespace, createNamespaces: opts.createNamespaces === true },
        body: doc,
      });
      const objects = describeObjects(doc);
      ctx.out(objects.length ? objects.map((o) => `${o} applied\n`).join('') : `${label}: nothing to apply\n`);
    });
}
