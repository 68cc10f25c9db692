// A precise pacing clock for the open-loop generator. libuv timers have millisecond resolution, and a
// setImmediate spin would burn one of this machine's two cores; a worker thread that sleeps in
// Atomics.wait (a futex, nanosecond timeouts) and posts a message at each intended send time wakes the
// main event loop through its async handle within tens of microseconds and costs almost nothing.
// Late ticks are harmless: the generator sends everything due and measures from the intended time.
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { intervalNs, count } = workerData;
const cell = new Int32Array(new SharedArrayBuffer(4));
const start = process.hrtime.bigint();
parentPort.postMessage(String(start));
for (let i = 1; i <= count; i++) {
  const due = start + BigInt(Math.round(i * intervalNs));
  const waitMs = Number(due - process.hrtime.bigint()) / 1e6;
  if (waitMs > 0) Atomics.wait(cell, 0, 0, waitMs);
  parentPort.postMessage(i);
}
parentPort.postMessage(-1);
`;

/**
 * Calls `onStart(t0Us)` once the worker runs (its start time on the shared monotonic clock, in µs — worker
 * start-up takes tens of ms and must not count as latency), then `onTick()` about `rate` times a second for
 * `count` ticks, then resolves. The caller decides what is due from its own clock, so a coalesced or late
 * tick loses nothing.
 */
export function runTicker(rate: number, count: number, onStart: (t0Us: number) => void, onTick: () => void): Promise<void> {
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { intervalNs: 1e9 / rate, count } });
  return new Promise((resolve, reject) => {
    w.on('message', (m: number | string) => {
      if (typeof m === 'string') {
        onStart(Number(BigInt(m) / 1000n));
      } else if (m === -1) {
        void w.terminate().then(() => resolve());
      } else {
        onTick();
      }
    });
    w.once('error', reject);
  });
}
