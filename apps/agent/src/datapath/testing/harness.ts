// Small socket helpers for the datapath specs and the throughput probe.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** An unmodified echo server (allowHalfOpen, so it finishes echoing after the client's FIN). */
export async function echoServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer({ allowHalfOpen: true }, (s) => {
    n++;
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, connections: () => n };
}

/** A server that reads until the client half-closes and only then answers: the half-close test. */
export async function replyAfterEndServer(): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let bytes = 0;
    s.on('error', () => undefined);
    s.on('data', (c: Buffer) => (bytes += c.length));
    s.on('end', () => s.end(`received ${bytes} bytes after your FIN`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

export function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `payload`, half-closes, and collects everything until the peer ends or the socket closes. */
export function exchange(s: Socket, payload: Buffer | string): Promise<{ data: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended = false;
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => (ended = true));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ data: Buffer.concat(chunks), ended }));
    s.end(payload);
  });
}

/** Resolves when the socket is closed (by either side), with whether any data arrived. */
export function closed(s: Socket): Promise<{ data: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    // Our sockets are half-open capable: answer the peer's FIN with ours so the socket can close.
    s.on('end', () => s.end());
    if (s.destroyed) {
      resolve({ data: Buffer.alloc(0) });
      return;
    }
    s.on('close', () => resolve({ data: Buffer.concat(chunks) }));
  });
}

/** Waits for `n` bytes on `s`. */
export function readBytes(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= n) {
        s.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    s.on('data', onData);
    s.once('close', () => reject(new Error(`closed after ${got} of ${n} bytes`)));
  });
}

/** Polls `cond` on the event loop until it holds (no timing assertions; the test's own timeout bounds it). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) {
    await new Promise((r) => setTimeout(r, 5));
  }
}
