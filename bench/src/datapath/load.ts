// The load generator: bulk streams, closed-loop request/response capacity, an open-loop latency run,
// new connections per second and a set of held-open connections. Everything talks to 127.0.0.1:<port>
// through the condition in front of the backend (backend.ts: 'B' first = sink, anything else = echo).
import { connect, type Socket } from 'node:net';
import { Histogram } from './histogram';
import { runTicker } from './ticker';

const REQ = Buffer.alloc(1024, 0x72); // 1 KiB request, echoed back as the 1 KiB response
const CHUNK = Buffer.alloc(256 * 1024, 0x78);

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true, allowHalfOpen: true });
    s.once('connect', () => (s.off('error', reject), resolve(s)));
    s.once('error', reject);
  });
}

/** Resolves after one 1 KiB request/response on `s`. */
function roundTrip(s: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const on = (d: Buffer): void => {
      got += d.length;
      if (got >= REQ.length) {
        s.off('data', on);
        s.off('error', reject);
        resolve();
      }
    };
    s.on('data', on);
    s.once('error', reject);
    s.write(REQ);
  });
}

export interface BulkResult {
  bytes: number;
  seconds: number;
}

/** `streams` parallel uploads for `ms` each; the clock stops when the backend acknowledged every FIN. */
export async function bulk(port: number, streams: number, ms: number): Promise<BulkResult> {
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + ms;
  const sent = await Promise.all(
    Array.from({ length: streams }, async () => {
      const s = await open(port);
      let bytes = 0;
      await new Promise<void>((resolve, reject) => {
        s.on('data', () => undefined);
        s.once('end', () => resolve());
        s.once('error', reject);
        s.write('B');
        const pump = (): void => {
          while (Date.now() < deadline) {
            bytes += CHUNK.length;
            if (!s.write(CHUNK)) {
              s.once('drain', pump);
              return;
            }
          }
          s.end();
        };
        pump();
      });
      s.destroy();
      return bytes;
    }),
  );
  return { bytes: sent.reduce((a, b) => a + b, 0), seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/** Closed loop: `conns` connections, one 1 KiB request outstanding on each; completed requests per second. */
export async function rrCapacity(port: number, conns: number, ms: number): Promise<number> {
  const socks = await Promise.all(Array.from({ length: conns }, () => open(port)));
  await Promise.all(socks.map(roundTrip));
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + ms;
  let n = 0;
  await Promise.all(
    socks.map(async (s) => {
      while (Date.now() < deadline) {
        await roundTrip(s);
        n++;
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  socks.forEach((s) => s.destroy());
  return n / secs;
}

export interface LatencyResult {
  rate: number;
  sent: number;
  completed: number;
  p50us: number;
  p99us: number;
}

/**
 * Open loop at `rate` requests/s over `conns` connections for `ms`: request i is due at t0 + i/rate and its
 * latency is measured from that intended time (wrk2's correction for coordinated omission), so a stall in
 * the proxy shows up as the queue it causes rather than as fewer samples.
 */
export async function openLoop(port: number, rate: number, ms: number, conns = 8): Promise<LatencyResult> {
  const socks = await Promise.all(Array.from({ length: conns }, () => open(port)));
  await Promise.all(socks.map(roundTrip));
  const hist = new Histogram();
  const total = Math.max(1, Math.round((rate * ms) / 1000));
  const fifos: number[][] = socks.map(() => []);
  const pending = socks.map(() => 0);
  let completed = 0;
  let finish: (() => void) | null = null;
  socks.forEach((s, k) => {
    s.on('data', (d: Buffer) => {
      const now = Number(process.hrtime.bigint()) / 1e3;
      pending[k] += d.length;
      while (pending[k] >= REQ.length) {
        pending[k] -= REQ.length;
        hist.record(now - (fifos[k].shift() ?? now));
        completed++;
      }
      if (completed === total && finish) {
        finish();
      }
    });
  });
  const intervalUs = 1e6 / rate;
  let t0 = 0;
  let sent = 0;
  await runTicker(rate, total, (start) => (t0 = start), () => {
    const now = Number(process.hrtime.bigint()) / 1e3;
    const due = Math.min(total, Math.floor((now - t0) / intervalUs) + 1);
    for (; sent < due; sent++) {
      const k = sent % conns;
      fifos[k].push(t0 + sent * intervalUs);
      socks[k].write(REQ);
    }
  });
  if (completed < total) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5_000);
      finish = () => (clearTimeout(t), resolve());
    });
  }
  socks.forEach((s) => s.destroy());
  return { rate, sent, completed, p50us: hist.quantile(0.5), p99us: hist.quantile(0.99) };
}

export interface ConnRateResult {
  perSecond: number;
  errors: number;
}

/** `workers` loops of connect → one 1 KiB request/response → close, for `ms`. */
export async function newConnections(port: number, workers: number, ms: number): Promise<ConnRateResult> {
  const deadline = Date.now() + ms;
  const t0 = process.hrtime.bigint();
  let n = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < deadline) {
        try {
          const s = await open(port);
          await roundTrip(s);
          s.destroy();
          n++;
        } catch {
          errors++;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    }),
  );
  return { perSecond: n / (Number(process.hrtime.bigint() - t0) / 1e9), errors };
}

/** Opens `n` connections, each proven end to end by one request/response; returns them for closing. */
export async function holdConnections(port: number, n: number, parallel = 50): Promise<Socket[]> {
  const socks: Socket[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, n - i) }, async () => {
        const s = await open(port);
        s.on('error', () => undefined);
        await roundTrip(s);
        return s;
      }),
    );
    socks.push(...batch);
  }
  return socks;
}
