/**
 * `palisade export -n NAMESPACE [-o yaml|json]`: `GET /v1/export?namespace=` — the import format, so
 * `palisade export -n /x > x.yaml && palisade apply -f x.yaml` round-trips.
 */
import { type Command } from 'commander';
import { parse } from 'yaml';
import { type Context, type GlobalOptions } from '../context';
import { CliError, ExitCode } from '../errors';
import { parseFormat, toJson, toYaml } from '../output';

interface ExportOptions {
  namespace: string;
  output: string;
}

export function registerExport(program: Command, ctx: Context): void {
  program
    .command('export')
    .description('print a namespace as an import document')
    .requiredOption('-n, --namespace <namespace>', 'namespace to export')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .action(async (opts: ExportOptions, cmd: Command) => {
      const format = parseFormat(opts.output, ['yaml', 'json']);
      const client = await ctx.client(cmd.optsWithGlobals<GlobalOptions>());
      const res = await client.request('GET', '/v1/export', { query: { namespace: opts.namespace } });
      if (format === 'yaml' && /yaml/i.test(res.contentType)) {
        ctx.out(res.text.endsWith('\n') ? res.text : res.text + '\n'); // already the server's canonical YAML
        return;
      }
      let doc: unknown;
      try {
        doc = parse(res.text); // YAML is a superset of JSON: reads either answer
      } catch {
        throw new CliError('response_invalid', 'GET /v1/export: the answer is neither JSON nor YAML', ExitCode.api);
      }
      ctx.out(format === 'json' ? toJson(doc) : toYaml(doc));
    });
}
