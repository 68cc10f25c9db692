/**
 * What every command gets: the process's streams and environment (injected, so the whole CLI runs
 * in-process in tests with no global state) and a way to build the API client for the selected profile.
 */
import { ApiClient } from './client';
import { type Env, resolveTarget } from './config';

export interface Io {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  stdin: NodeJS.ReadableStream;
  env: Env;
}

export interface GlobalOptions {
  profile?: string;
  verbose?: boolean;
}

export class Context {
  constructor(readonly io: Io) {}

  /** The API client for `--profile` (or the current profile), with the environment's overrides applied. */
  async client(globals: GlobalOptions): Promise<ApiClient> {
    const target = await resolveTarget(this.io.env, globals.profile);
    return new ApiClient({ url: target.url, token: target.token, ...(target.caPem ? { caPem: target.caPem } : {}) });
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  err(text: string): void {
    this.io.stderr.write(text);
  }

  /** Reads all of stdin as UTF-8 (for `-f -` and `--token -`). */
  async readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of this.io.stdin) {
      chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
