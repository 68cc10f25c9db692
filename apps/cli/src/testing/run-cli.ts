/**
 * Runs the CLI for a test and captures what it prints. `runCli` calls `run()` in-process (fast: no Node
 * start-up per case); `runCliProcess` spawns the built binary, to pin what only a real process shows (exit
 * status, stdin). Both take the environment explicitly, so no test reads the developer's own config.
 *
 * The seam for testing against the real control plane: start it, log in with its admin token and
 * `<data dir>/ca.pem`, and call these with PALISADE_URL / PALISADE_TOKEN / PALISADE_CA set.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { run } from '../cli';
import { type Env } from '../config';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env: Env;
  stdin?: string;
}

export async function runCli(args: readonly string[], opts: CliRunOptions): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    env: opts.env,
  });
  return { code, stdout, stderr };
}

/** dist/apps/cli/src/main.js, from the compiled location of this file (dist/apps/cli/src/testing/). */
export const CLI_MAIN = resolve(__dirname, '..', 'main.js');

export function runCliProcess(args: readonly string[], opts: CliRunOptions): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      env: { PATH: process.env.PATH, ...opts.env } as NodeJS.ProcessEnv,
      cwd: join(__dirname, '..'),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}
