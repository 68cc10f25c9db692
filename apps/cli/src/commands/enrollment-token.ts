/**
 * `palisade enrollment-token create -n NS [--tags …] [--ttl 10m] [--max-uses N]`: `POST
 * /v1/enrollmenttokens` (issue 4). The token is printed alone on stdout — it is shown once and is meant to
 * be piped (`… > token && palisade-agent enroll "$(cat token)"`); what it is good for goes to stderr.
 */
import { type Command } from 'commander';
import { type Context, type GlobalOptions } from '../context';
import { CliError, ExitCode } from '../errors';
import { parseFormat, toJson } from '../output';
import { collectTags, parseDuration, parsePositiveInt } from './args';

interface CreateOptions {
  namespace: string;
  tags?: string[];
  ttl?: number;
  maxUses?: number;
  output: string;
}

/** `POST /v1/enrollmenttokens` answers `{ id, token, namespace, expiresAt, maxUses }`. */
export interface EnrollmentTokenCreated {
  id: string;
  token: string;
  namespace: string;
  expiresAt: string;
  maxUses: number;
}

export function registerEnrollmentToken(program: Command, ctx: Context): void {
  const group = program.command('enrollment-token').description('one-time tokens that enroll an agent');
  group
    .command('create')
    .description('create an enrollment token (printed once, on stdout)')
    .requiredOption('-n, --namespace <namespace>', 'namespace the agent enrolls into')
    .option('--tags <tags>', 'tags the agent may claim, comma-separated (repeatable)', collectTags)
    .option('--ttl <duration>', 'lifetime: seconds or 10m, 1h (server default 600 s)', (v) => parseDuration(v))
    .option('--max-uses <n>', 'how many agents may enroll with it (server default 1)', (v) => parsePositiveInt(v, '--max-uses'))
    .option('-o, --output <format>', 'token (just the token) or json (the whole answer)', 'token')
    .action(async (opts: CreateOptions, cmd: Command) => {
      const asJson = opts.output === 'json';
      if (!asJson && opts.output !== 'token') {
        parseFormat(opts.output, ['json']); // throws the standard output_invalid error
      }
      const client = await ctx.client(cmd.optsWithGlobals<GlobalOptions>());
      const body: Record<string, unknown> = { namespace: opts.namespace };
      if (opts.tags?.length) {
        body.tags = opts.tags;
      }
      if (opts.ttl !== undefined) {
        body.ttlSeconds = opts.ttl;
      }
      if (opts.maxUses !== undefined) {
        body.maxUses = opts.maxUses;
      }
      const created = await client.json<EnrollmentTokenCreated>('POST', '/v1/enrollmenttokens', { body });
      if (!created || typeof created.token !== 'string') {
        throw new CliError('response_invalid', 'POST /v1/enrollmenttokens: the answer has no token', ExitCode.api);
      }
      if (asJson) {
        ctx.out(toJson(created));
        return;
      }
      ctx.out(`${created.token}\n`);
      ctx.err(`enrollment token ${created.id} for ${created.namespace}: expires ${created.expiresAt}, ${created.maxUses} use(s); shown once\n`);
    });
}
