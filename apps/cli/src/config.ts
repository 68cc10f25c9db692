/**
 * Where the CLI keeps who it talks to. One JSON file of named profiles, like kubeconfig's contexts and the
 * GitHub CLI's hosts.yml: `~/.config/palisade/config.json` (or `$PALISADE_CONFIG`), always mode 0600
 * because it holds a bearer token. The CA certificate is stored inline (PEM), as kubeconfig's
 * `certificate-authority-data` does, so a profile keeps working when the file it came from moves.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { dirname, join } from 'node:path';
import { CliError, ExitCode, usageError } from './errors';

export interface Profile {
  url: string;
  token: string;
  /** PEM of the CA that signs the control plane's certificate; absent → the system's trust store. */
  caPem?: string;
}

export interface ConfigFile {
  current: string;
  profiles: Record<string, Profile>;
}

/** What a command needs to reach the API once config file and environment are merged. */
export interface Target extends Profile {
  /** Where each part came from, for error messages ("PALISADE_URL", "profile default"). */
  source: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_PROFILE = 'default';

/** The config file path: `$PALISADE_CONFIG`, else `$XDG_CONFIG_HOME/palisade/config.json`, else `~/.config/…`. */
export function configPath(env: Env): string {
  if (env.PALISADE_CONFIG) {
    return env.PALISADE_CONFIG;
  }
  const base = env.XDG_CONFIG_HOME || join(env.HOME || env.USERPROFILE || '.', '.config');
  return join(base, 'palisade', 'config.json');
}

/** Reads the config file; a missing file is an empty config, a damaged one is a usage error naming it. */
export async function loadConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { current: DEFAULT_PROFILE, profiles: {} };
    }
    throw usageError('config_unreadable', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<ConfigFile>;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.profiles !== 'object') {
      throw new Error('expected { current, profiles }');
    }
    return { current: parsed.current ?? DEFAULT_PROFILE, profiles: parsed.profiles ?? {} };
  } catch (err) {
    throw usageError('config_invalid', `${path} is not a palisade config: ${(err as Error).message}`);
  }
}

/**
 * Writes the config file atomically (temp file + rename, so a crash never leaves half a token) with mode
 * 0600, creating its directory with 0700. An existing file with a looser mode is tightened.
 */
export async function saveConfig(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600); // the umask may have widened nothing, but an existing tmp file keeps its mode
  await rename(tmp, path);
}

/** Reads a CA file and checks it holds a certificate, so a wrong path fails at login, not at first use. */
export async function readCaFile(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError('ca_unreadable', `cannot read CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    new X509Certificate(pem);
  } catch {
    throw usageError('ca_invalid', `${file} does not hold a PEM certificate`);
  }
  return pem;
}

/**
 * Resolves the API target: `PALISADE_URL`, `PALISADE_TOKEN` and `PALISADE_CA` (a file) override the
 * selected profile field by field, so CI can run without a config file and a person can point one command
 * elsewhere. Fails with `not_logged_in` (usage, exit 2) when no URL or token is known.
 */
export async function resolveTarget(env: Env, profileName?: string): Promise<Target> {
  const path = configPath(env);
  const config = await loadConfig(path);
  const name = profileName ?? env.PALISADE_PROFILE ?? config.current;
  const profile: Partial<Profile> = config.profiles[name] ?? {};
  if (profileName && !config.profiles[name] && !(env.PALISADE_URL && env.PALISADE_TOKEN)) {
    throw usageError('profile_unknown', `no profile "${name}" in ${path}`);
  }
  const url = env.PALISADE_URL || profile.url;
  const token = env.PALISADE_TOKEN || profile.token;
  if (!url || !token) {
    throw new CliError(
      'not_logged_in',
      `no control plane configured: run "palisade login --url URL --token TOKEN" or set PALISADE_URL and PALISADE_TOKEN`,
      ExitCode.usage,
    );
  }
  const caPem = env.PALISADE_CA ? await readCaFile(env.PALISADE_CA) : profile.caPem;
  const source = env.PALISADE_URL ? 'PALISADE_URL' : `profile ${name}`;
  return { url, token, ...(caPem ? { caPem } : {}), source };
}
