import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit } from './group-commit';

/** A write function that records the batches it was given and answers item × 10, refusing negative items. */
function recorder(fail?: (items: number[]) => boolean) {
  const batches: number[][] = [];
  const write = async (items: number[]) => {
    batches.push([...items]);
    await new Promise((r) => setTimeout(r, 5));
    if (fail?.(items)) {
      throw new Error(`batch ${items.join(',')} failed`);
    }
    return items.map((i) => (i < 0 ? new Error(`item ${i} refused`) : i * 10));
  };
  return { batches, write };
}

void describe('GroupCommit', () => {
  void it('writes the items submitted in one turn as one batch, and those arriving meanwhile as the next', async () => {
    const r = recorder();
    const g = new GroupCommit(r.write, { maxBatch: 10, concurrency: 1 });
    const first = [1, 2, 3].map((i) => g.submit(i));
    await new Promise((res) => setImmediate(res));
    const second = [4, 5].map((i) => g.submit(i));
    assert.deepEqual(await Promise.all([...first, ...second]), [10, 20, 30, 40, 50]);
    assert.deepEqual(r.batches, [[1, 2, 3], [4, 5]]);
  });

  void it('caps a batch at maxBatch and runs at most `concurrency` batches at once', async () => {
    const r = recorder();
    let inFlight = 0;
    let most = 0;
    const g = new GroupCommit(async (items: number[]) => {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        return await r.write(items);
      } finally {
        inFlight--;
      }
    }, { maxBatch: 4, concurrency: 2 });
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => g.submit(i)));
    assert.deepEqual(out, Array.from({ length: 10 }, (_, i) => i * 10));
    assert.deepEqual(r.batches.map((b) => b.length), [4, 4, 2]);
    assert.equal(most, 2);
  });

  void it('rejects only the item whose outcome is an Error; the rest of its batch resolves', async () => {
    const g = new GroupCommit(recorder().write, { maxBatch: 10, concurrency: 1 });
    const out = await Promise.allSettled([1, -2, 3].map((i) => g.submit(i)));
    assert.deepEqual(out.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((out[1] as PromiseRejectedResult).reason), /item -2 refused/);
  });

  void it('when a batch fails as a whole, writes each item again alone so the failure lands only where it belongs', async () => {
    // The write fails for any batch holding 13 (a poison item); alone, the others succeed.
    const r = recorder((items) => items.includes(13));
    const g = new GroupCommit(r.write, { maxBatch: 10, concurrency: 1 });
    const out = await Promise.allSettled([12, 13, 14].map((i) => g.submit(i)));
    assert.deepEqual(out.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual((out as PromiseFulfilledResult<number>[]).filter((o) => o.status === 'fulfilled').map((o) => o.value), [120, 140]);
    assert.match(String((out[1] as PromiseRejectedResult).reason), /batch 13 failed/);
    assert.deepEqual(r.batches, [[12, 13, 14], [12], [13], [14]]);
  });
});
