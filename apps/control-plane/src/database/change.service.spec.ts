import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type DataSource } from 'typeorm';
import { createTestDatabase } from '../testing/test-backends';
import { type ChangeEvent, ChangeService } from './change.service';
import { openDatabase } from './data-source';
import { TransactionService } from './transaction.service';

const OBJ = '11111111-1111-4111-8111-111111111111';

/** Resolves with the first change the service reports after `since`, or null after `ms`. */
function nextChange(svc: ChangeService, ms = 3000): Promise<ChangeEvent | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(null);
    }, ms);
    const off = svc.onChange((c) => {
      clearTimeout(timer);
      off();
      resolve(c);
    });
  });
}

async function service(ds: DataSource): Promise<ChangeService> {
  const s = new ChangeService(ds);
  await s.onModuleInit();
  return s;
}

describe(ChangeService.name, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) {
      await c();
    }
  });

  it('PGlite: a committed change is reported with its revision; a rolled-back one never is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-changes-'));
    const ds = await openDatabase({ kind: 'pglite', dataDir: dir });
    const sut = await service(ds);
    cleanups.push(async () => {
      await sut.onApplicationShutdown();
      await ds.destroy();
      await rm(dir, { recursive: true, force: true });
    });
    const tx = new TransactionService(ds);
    const silent = nextChange(sut, 500);
    await assert.rejects(
      tx.run(async (em) => {
        await sut.record(em, { kind: 'service', namespace: '/a', objectId: OBJ });
        throw new Error('roll back');
      }),
    );
    assert.equal(await silent, null);
    const seen = nextChange(sut);
    const rev = await tx.run((em) => sut.record(em, { kind: 'service', namespace: '/a', objectId: OBJ }));
    const c = await seen;
    assert.equal(c?.revision, rev);
    assert.deepEqual([c?.kind, c?.namespace, c?.objectId, c?.op], ['service', '/a', OBJ, 'upsert']);
    assert.equal(await sut.currentRevision(), rev);
  });

  it('Postgres: a change committed through one DataSource is seen by another on the same database', { skip: !process.env.TEST_DATABASE_URL }, async () => {
    const db = await createTestDatabase(process.env.TEST_DATABASE_URL ?? '');
    const a = await openDatabase({ kind: 'postgres', url: db.url });
    const b = await openDatabase({ kind: 'postgres', url: db.url });
    const [sa, sb] = [await service(a), await service(b)];
    cleanups.push(async () => {
      await sa.onApplicationShutdown();
      await sb.onApplicationShutdown();
      await a.destroy();
      await b.destroy();
      await db.drop();
    });
    const onB = nextChange(sb);
    const rev = await new TransactionService(a).run((em) => sa.record(em, { kind: 'networkaccesspolicy', namespace: '/x', objectId: OBJ, op: 'delete' }));
    const c = await onB;
    assert.equal(c?.revision, rev);
    assert.equal(c?.op, 'delete');
    assert.equal(c?.kind, 'networkaccesspolicy');
  });
});
