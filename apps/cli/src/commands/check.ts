/**
 * `palisade check --subject TAGS --object TAGS --port tcp/8106 -n NS`: the what-if question "would this
 * flow be allowed?", answered by the control plane's evaluator (`POST /v1/policycheck`) with the
 * deciding policy and the explanation of every policy it considered. A Reject is an answer, not an error:
 * the exit status is 0 either way.
 */
import { type Command } from 'commander';
import { type Context, type GlobalOptions } from '../context';
import { usageError } from '../errors';
import { parseFormat, toJson, toTable, toYaml } from '../output';
import { collectTags, parsePortOption } from './args';

interface CheckOptions {
  subject?: string[];
  object?: string[];
  port: string;
  namespace: string;
  output: string;
}

/** The answer of `POST /v1/policycheck` (issue 3). */
export interface PolicyCheckResult {
  action: 'Allow' | 'Reject';
  policyName: string | null;
  policyId: string | null;
  reason: string;
  explanation?: { policyId?: string; policyName?: string; matched?: boolean; why?: string }[];
}

/** `Allow by policy client-to-mylbtest3 (reason: policy)`, then the explanation as a table. */
export function renderCheck(r: PolicyCheckResult): string {
  let text = `${r.action}${r.policyName ? ` by policy ${r.policyName}` : ''} (reason: ${r.reason})\n`;
  if (r.explanation?.length) {
    text +=
      '\n' +
      toTable(
        [
          { header: 'POLICY', get: (e) => e.policyName ?? e.policyId },
          { header: 'MATCHED', get: (e) => (e.matched ? 'yes' : 'no') },
          { header: 'WHY', get: (e) => e.why },
        ],
        r.explanation as Record<string, unknown>[],
      );
  }
  return text;
}

export function registerCheck(program: Command, ctx: Context): void {
  program
    .command('check')
    .description('ask the control plane whether a flow would be allowed, and why')
    .requiredOption('--subject <tags>', 'tags of the initiator, comma-separated (repeatable)', collectTags)
    .requiredOption('--object <tags>', 'tags of the receiver, comma-separated (repeatable)', collectTags)
    .requiredOption('--port <port>', 'destination port, e.g. tcp/8106')
    .requiredOption('-n, --namespace <namespace>', 'namespace whose policies decide')
    .option('-o, --output <format>', 'table, yaml or json', 'table')
    .action(async (opts: CheckOptions, cmd: Command) => {
      const format = parseFormat(opts.output, ['table', 'yaml', 'json']);
      const port = parsePortOption(opts.port);
      if (!opts.subject?.length || !opts.object?.length) {
        throw usageError('tags_required', '--subject and --object each need at least one tag');
      }
      const client = await ctx.client(cmd.optsWithGlobals<GlobalOptions>());
      const result = await client.json<PolicyCheckResult>('POST', '/v1/policycheck', {
        body: { namespace: opts.namespace, subject: opts.subject, object: opts.object, port },
      });
      ctx.out(format === 'json' ? toJson(result) : format === 'yaml' ? toYaml(result) : renderCheck(result));
    });
}
