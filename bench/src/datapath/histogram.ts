// A log-bucketed latency histogram (HdrHistogram's idea at ~1 % precision, in a fixed array): recording
// is O(1) and allocation-free, so the load generator measures the proxy, not its own bookkeeping.
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 2048; // 1 µs · 1.01^2048 ≈ 7 · 10^8 µs: more than any run lasts

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;

  /** Records one latency in microseconds (values below 1 µs land in the first bucket). */
  record(us: number): void {
    const i = us <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(us) / LOG_GROWTH));
    this.counts[i]++;
    this.count++;
    if (us > this.max) {
      this.max = us;
    }
  }

  /** The value at quantile q (0..1): the upper edge of the bucket holding it, so never an underestimate. */
  quantile(q: number): number {
    if (this.count === 0) {
      return NaN;
    }
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        return Math.min(this.max, GROWTH ** i);
      }
    }
    return this.max;
  }
}
