/**
 * Group commit for a hot write path: concurrent callers' items are written by one transaction instead of one
 * transaction each, the way Postgres groups WAL flushes (`commit_delay`) and Kafka producers group records —
 * the statement and commit costs are paid once per batch, not once per item.
 *
 * - No delay is added: a batch starts on the next turn of the event loop (setImmediate, after the I/O callbacks
 *   that delivered the other requests of this turn), and whatever arrives while `concurrency` batches are being
 *   written forms the next one. An idle system runs batches of one at the latency it had before.
 * - `write(items)` returns one outcome per item in order: a value, or an Error for that item alone (a used token,
 *   say) — the others commit. If `write` itself throws (a statement failed, the database went away), nothing of
 *   that batch was committed; each item is then written again on its own, so a failure lands only on the item
 *   that causes it and never on the callers that happened to share its batch.
 */
export class GroupCommit<I, O> {
  private readonly queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly write: (items: I[]) => Promise<(O | Error)[]>,
    private readonly o: { maxBatch: number; concurrency: number },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.running < this.o.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.o.maxBatch);
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(batch: GroupCommit<I, O>['queue']): Promise<void> {
    let outcomes: (O | Error)[];
    try {
      outcomes = await this.write(batch.map((b) => b.item));
    } catch (e) {
      if (batch.length === 1) {
        batch[0].reject(e);
        return;
      }
      await Promise.all(batch.map((b) => this.run([b])));
      return;
    }
    batch.forEach((b, i) => {
      const out = outcomes[i];
      if (out instanceof Error) {
        b.reject(out);
      } else {
        b.resolve(out);
      }
    });
  }
}
