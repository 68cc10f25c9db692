/**
 * The `palisade` command tree (commander 14). `run(argv, io)` is the whole CLI as a function from
 * arguments to an exit status, so `main.ts` is three lines and the tests drive the real thing in-process.
 */
import { Command, CommanderError } from 'commander';
import { Context, type Io } from './context';
import { CliError, ExitCode, formatError, formatErrorDetails } from './errors';
import { registerLogin } from './commands/login';
import { registerApply } from './commands/apply';
import { registerGet } from './commands/get';
import { registerDelete } from './commands/delete';
import { registerExport } from './commands/export';
import { registerCheck } from './commands/check';
import { registerEnrollmentToken } from './commands/enrollment-token';

export const VERSION = '0.1.0';

/** Builds the command tree; exported so the README's command list can be checked against it. */
export function buildProgram(ctx: Context): Command {
  const program = new Command('palisade')
    .description('Admin CLI for the Palisade control plane')
    .version(VERSION)
    .option('--profile <name>', 'use this profile from the config file instead of the current one')
    .option('-v, --verbose', 'on errors, also print the HTTP status, request id and every field detail')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.out(s),
      writeErr: (s) => ctx.err(s),
      // Commander's own "error: …" line is replaced by ours (see run), so usage errors look like the rest.
      outputError: () => undefined,
    });
  registerLogin(program, ctx);
  registerApply(program, ctx);
  registerGet(program, ctx);
  registerDelete(program, ctx);
  registerExport(program, ctx);
  registerCheck(program, ctx);
  registerEnrollmentToken(program, ctx);
  return program;
}

/**
 * Runs the CLI on `argv` (without the node and script paths) and resolves with the exit status:
 * 0 success, 1 the API refused, 2 a usage error (nothing sent), 3 the control plane could not be reached.
 * Every failure prints exactly one line on stderr (`palisade: <code>: <message> (field …)`).
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const ctx = new Context(io);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) {
        return ExitCode.ok; // --help, --version
      }
      if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed') {
        return ExitCode.usage; // help shown because no command was given; already printed
      }
      ctx.err(`palisade: usage: ${err.message.replace(/^error: /, '')} (see palisade --help)\n`);
      return ExitCode.usage;
    }
    if (err instanceof CliError) {
      ctx.err(formatError(err) + '\n');
      if (program.opts<{ verbose?: boolean }>().verbose) {
        for (const line of formatErrorDetails(err)) {
          ctx.err(line + '\n');
        }
      }
      return err.exitCode;
    }
    // A bug, not a user error: still one line, and a distinct code so it is reported rather than retried.
    ctx.err(`palisade: internal: ${(err as Error).message ?? String(err)}\n`);
    return ExitCode.api;
  }
}
