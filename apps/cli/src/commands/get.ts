/**
 * `palisade get <identity> [NAME] [-n NS] [--recursive] [-o table|yaml|json]`: lists a resource
 * (`GET /v1/<identity>?namespace=&recursive=true`), optionally narrowed to one name.
 */
import { type Command } from 'commander';
import { type ApiObject } from '../client';
import { type Context, type GlobalOptions } from '../context';
import { CliError, ExitCode } from '../errors';
import { resolveIdentity } from '../identities';
import { parseFormat, toJson, toTable, toYaml } from '../output';

interface GetOptions {
  namespace?: string;
  recursive?: boolean;
  output: string;
}

export function registerGet(program: Command, ctx: Context): void {
  program
    .command('get')
    .description('list objects of a resource: ns, pu, netpol, svc, agents, flows, tokens, audit, enrollmenttokens')
    .argument('<identity>', 'resource, singular, plural or short form (e.g. pu, processingunits)')
    .argument('[name]', 'only the object with this name')
    .option('-n, --namespace <namespace>', 'namespace to list (default: the token’s own)')
    .option('-r, --recursive', 'include descendant namespaces')
    .option('-o, --output <format>', 'table, yaml or json', 'table')
    .action(async (word: string, name: string | undefined, opts: GetOptions, cmd: Command) => {
      const info = resolveIdentity(word);
      const format = parseFormat(opts.output, ['table', 'yaml', 'json']);
      const client = await ctx.client(cmd.optsWithGlobals<GlobalOptions>());
      let items: ApiObject[] = await client.list(info.plural, { namespace: opts.namespace, recursive: opts.recursive === true });
      if (name !== undefined) {
        items = items.filter((o) => o.name === name);
        if (items.length === 0) {
          throw new CliError('not_found', `${info.singular} "${name}" not found${opts.namespace ? ` in ${opts.namespace}` : ''}`, ExitCode.api);
        }
      }
      switch (format) {
        case 'json':
          ctx.out(toJson(items));
          return;
        case 'yaml':
          ctx.out(toYaml(items));
          return;
        case 'table':
          if (items.length === 0) {
            // Like kubectl: the "nothing" notice goes to stderr so stdout stays parseable.
            ctx.err(`No ${info.plural} found${opts.namespace ? ` in ${opts.namespace}` : ''}.\n`);
            return;
          }
          ctx.out(toTable(info.columns, items));
          return;
      }
    });
}
