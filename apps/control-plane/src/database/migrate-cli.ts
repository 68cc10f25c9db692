// npm run db:migrate | db:revert — applies or reverts (the last) migration on the configured database.
import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config/config';
import { createDataSource } from './data-source';
import { databaseTarget } from './target';

async function main(cmd: string | undefined): Promise<void> {
  if (cmd !== 'up' && cmd !== 'down') {
    throw new Error('usage: migrate-cli up|down');
  }
  const ds = await createDataSource(databaseTarget(loadConfig()));
  await ds.initialize();
  try {
    if (cmd === 'up') {
      const done = await ds.runMigrations({ transaction: 'each' });
      console.log(done.length ? `applied: ${done.map((m) => m.name).join(', ')}` : 'already up to date');
    } else {
      await ds.undoLastMigration({ transaction: 'each' });
      console.log('reverted the last migration');
    }
  } finally {
    await ds.destroy();
  }
}

main(process.argv[2]).catch((e: Error) => {
  console.error(e instanceof ConfigError ? `configuration error: ${e.message}` : `migration failed: ${e.message}`);
  process.exit(1);
});
