#!/usr/bin/env node
// palisade-agent: enroll this host, run the agent, show its status.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { AGENT_VERSION } from './defaults';
import { ConfigError, parseAgentConfig } from './config/config';
import { StateStore } from './certs/state-store';
import { enroll, EnrollError } from './enroll/enroll';
import { renderStatus } from './status/status';

/** One JSON object per line on stderr (stdout stays free for what a person asked to see). */
function jsonLog(event: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', event, ...fields }) + '\n');
}

function fail(message: string, code = 1): never {
  process.stderr.write(`palisade-agent: ${message}\n`);
  process.exit(code);
}

function stateDirOf(opt: string | undefined): string | null {
  const d = opt ?? process.env.PALISADE_AGENT_STATE;
  return d ? resolve(d) : null;
}

const program = new Command('palisade-agent')
  .description('Palisade host agent: mutual TLS and policy for unmodified TCP applications')
  .version(AGENT_VERSION)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command('enroll')
  .description('enroll this host with a one-time token (the key is generated here and never leaves it)')
  .argument('<token>', 'the enrollment token, as printed by POST /v1/enrollmenttokens')
  .option('--state-dir <dir>', 'where to keep the key and certificates (or PALISADE_AGENT_STATE)')
  .option('--name <name>', 'the agent name (default: the host name)')
  .option('--force', 'replace an existing enrollment in the state directory')
  .action(async (token: string, o: { stateDir?: string; name?: string; force?: boolean }) => {
    const dir = stateDirOf(o.stateDir);
    if (!dir) {
      fail('no state directory: pass --state-dir DIR or set PALISADE_AGENT_STATE', 2);
    }
    try {
      const r = await enroll({ token, stateDir: dir, name: o.name, force: o.force, log: (l) => process.stdout.write(`${l}\n`) });
      process.stdout.write(`agent ${r.agentId} enrolled in ${r.namespace}\n`);
    } catch (e) {
      if (e instanceof EnrollError) {
        fail(`enroll failed (${e.code}): ${e.message}`);
      }
      throw e;
    }
  });

program
  .command('run')
  .description('run the agent in the foreground')
  .requiredOption('-c, --config <file>', 'agent configuration (YAML)')
  .option('--state-dir <dir>', 'overrides stateDir of the configuration')
  .action(async (o: { config: string; stateDir?: string }) => {
    let text: string;
    try {
      text = readFileSync(o.config, 'utf8');
    } catch (e) {
      fail(`cannot read ${o.config}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 2);
    }
    let config;
    try {
      config = parseAgentConfig(text, o.config, stateDirOf(o.stateDir));
      if (o.stateDir) {
        config.stateDir = resolve(o.stateDir);
      }
    } catch (e) {
      if (e instanceof ConfigError) {
        fail(`bad configuration: ${e.message}`, 2);
      }
      throw e;
    }
    const store = new StateStore(config.stateDir);
    if (!store.isEnrolled()) {
      fail(`${config.stateDir} holds no enrollment: run palisade-agent enroll <token> --state-dir ${config.stateDir}`, 2);
    }
    if (config.mode === 'transparent' && process.getuid?.() !== 0) {
      fail('transparent mode needs root (it installs REDIRECT rules); use mode: explicit otherwise', 2);
    }
    if (config.mode === 'transparent' && process.getgid?.() !== config.agentGid) {
      try {
        process.setgid!(config.agentGid);
      } catch (e) {
        fail(`cannot switch to group ${config.agentGid} (needed so the redirect rules exempt the agent's own connections): ${(e as Error).message}`, 2);
      }
    }
    const { Agent } = await import('./agent');
    const agent = new Agent(config, store, jsonLog);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        return;
      }
      stopping = true;
      jsonLog('agent_stopping', { signal });
      agent.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    await agent.start();
    jsonLog('agent_started', { agentId: store.enrollment().agentId, mode: config.mode, pid: process.pid });
  });

program
  .command('status')
  .description('show the enrolled identity, the control-plane connection, the rule set, ports and certificates')
  .option('--state-dir <dir>', 'the state directory (or PALISADE_AGENT_STATE)')
  .option('-o, --output <format>', 'text or json', 'text')
  .action((o: { stateDir?: string; output: string }) => {
    const dir = stateDirOf(o.stateDir);
    if (!dir) {
      fail('no state directory: pass --state-dir DIR or set PALISADE_AGENT_STATE', 2);
    }
    process.stdout.write(renderStatus(new StateStore(dir), o.output === 'json' ? 'json' : 'text'));
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  fail(e instanceof Error ? e.message : String(e));
});
