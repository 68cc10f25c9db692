/**
 * `palisade delete <identity> NAME -n NAMESPACE`: the API deletes by id, people think in names, so the
 * name is resolved by listing the namespace (`GET /v1/<identity>?namespace=`) and matching `name` exactly;
 * then `DELETE /v1/<identity>/<id>`. No match is `not_found` (exit 1) and nothing is deleted.
 */
import { posix } from 'node:path';
import { type Command } from 'commander';
import { type ApiObject } from '../client';
import { type Context, type GlobalOptions } from '../context';
import { CliError, ExitCode, usageError } from '../errors';
import { type IdentityInfo, resolveIdentity } from '../identities';

interface DeleteOptions {
  namespace?: string;
  cascade?: boolean;
}

/**
 * The object `name` names among `items`. Namespaces are paths, so for them `name` may be the child's
 * last segment (`prod` in `-n /acme`) or the whole path (`/acme/prod`); either matches the stored name.
 * More than one match means the API broke name uniqueness, so nothing is deleted.
 */
export function findByName(info: IdentityInfo, items: readonly ApiObject[], name: string, namespace: string): ApiObject {
  const wanted = new Set([name]);
  if (info.plural === 'namespaces') {
    wanted.add(name.startsWith('/') ? name : posix.join(namespace, name));
  }
  const found = items.filter((o) => typeof o.name === 'string' && wanted.has(o.name));
  if (found.length === 0) {
    throw new CliError('not_found', `${info.singular} "${name}" not found in ${namespace}`, ExitCode.api);
  }
  if (found.length > 1) {
    throw new CliError('ambiguous', `${found.length} objects named "${name}" in ${namespace}; nothing deleted`, ExitCode.api);
  }
  if (typeof found[0].id !== 'string' || found[0].id === '') {
    throw new CliError('response_invalid', `${info.singular} "${name}" has no id in the API's answer`, ExitCode.api);
  }
  return found[0];
}

export function registerDelete(program: Command, ctx: Context): void {
  program
    .command('delete')
    .description('delete one object by name')
    .argument('<identity>', 'resource (ns, pu, netpol, svc, agents, tokens, enrollmenttokens)')
    .argument('<name>', 'the object’s name (for a namespace: its last segment or its full path)')
    .option('-n, --namespace <namespace>', 'namespace the object lives in (required; for a namespace, its parent)')
    .option('--cascade', 'namespaces only: also delete everything inside it')
    .action(async (word: string, name: string, opts: DeleteOptions, cmd: Command) => {
      const info = resolveIdentity(word);
      if (!info.deletable) {
        throw usageError('not_deletable', `${info.plural} cannot be deleted`);
      }
      if (opts.cascade && info.plural !== 'namespaces') {
        throw usageError('option_invalid', '--cascade applies to namespaces only');
      }
      let namespace = opts.namespace;
      if (namespace === undefined && info.plural === 'namespaces' && name.startsWith('/') && name !== '/') {
        namespace = posix.dirname(name);
      }
      if (namespace === undefined) {
        throw usageError('namespace_required', `-n NAMESPACE is required to delete a ${info.singular}`);
      }
      const client = await ctx.client(cmd.optsWithGlobals<GlobalOptions>());
      const target = findByName(info, await client.list(info.plural, { namespace }), name, namespace);
      await client.request('DELETE', `/v1/${info.plural}/${encodeURIComponent(String(target.id))}`, {
        query: { cascade: opts.cascade === true },
      });
      ctx.out(`${info.singular}/${name} deleted\n`);
    });
}
