// `npm run control-plane` / `npm start`: the control plane in the foreground until SIGTERM or SIGINT.
import 'reflect-metadata';
import { startControlPlane } from './app';
import { JsonLogger } from './common/json-logger';
import { ConfigError, loadConfig } from './config/config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = new JsonLogger(config.logLevel);
  const cp = await startControlPlane(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.emit('info', `${signal}: stopping`, 'control-plane');
    cp.close().then(
      () => {
        logger.emit('info', 'stopped', 'control-plane');
        process.exit(0);
      },
      (e: Error) => {
        logger.emit('error', `stop failed: ${e.message}`, 'control-plane');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: Error) => {
  process.stderr.write(`control plane failed to start: ${e.message}\n`);
  process.exit(1);
});
