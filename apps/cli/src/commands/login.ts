/**
 * `palisade login --url URL --token TOKEN [--ca FILE]`: checks the credentials against the API first and
 * only then stores them, so a typo never becomes the saved profile. The token is never printed; `--token -`
 * reads it from stdin so it stays out of shell history and `ps` (the GitHub CLI's `--with-token`).
 */
import { type Command } from 'commander';
import { ApiClient } from '../client';
import { configPath, DEFAULT_PROFILE, loadConfig, readCaFile, saveConfig } from '../config';
import { type Context, type GlobalOptions } from '../context';
import { usageError } from '../errors';

/** The call that proves URL, CA and token work together: any authenticated read would do. */
export const LOGIN_CHECK_PATH = '/v1/namespaces';

interface LoginOptions {
  url: string;
  token: string;
  ca?: string;
}

export function registerLogin(program: Command, ctx: Context): void {
  program
    .command('login')
    .description('verify and store the control plane URL, token and CA as a profile')
    .requiredOption('--url <url>', 'control plane URL, e.g. https://127.0.0.1:8443')
    .requiredOption('--token <token>', 'API token ("-" reads it from stdin)')
    .option('--ca <file>', "CA certificate to trust (the control plane's <data dir>/ca.pem)")
    .action(async (opts: LoginOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const token = opts.token === '-' ? (await ctx.readStdin()).trim() : opts.token;
      if (!token) {
        throw usageError('token_empty', '--token is empty');
      }
      const caPem = opts.ca ? await readCaFile(opts.ca) : undefined;
      const client = new ApiClient({ url: opts.url, token, ...(caPem ? { caPem } : {}) });
      await client.request('GET', LOGIN_CHECK_PATH);

      const path = configPath(ctx.io.env);
      const config = await loadConfig(path);
      const name = globals.profile ?? DEFAULT_PROFILE;
      config.profiles[name] = { url: client.urlFor('').href.replace(/\/$/, ''), token, ...(caPem ? { caPem } : {}) };
      config.current = name;
      await saveConfig(path, config);
      ctx.out(`logged in to ${config.profiles[name].url} (profile ${name}, saved in ${path})\n`);
    });
}
