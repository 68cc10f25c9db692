// A byte-for-byte TCP/Unix-socket forwarder: `node forward.js --listen tcp:HOST:PORT|unix:PATH
// --connect tcp:HOST:PORT|unix:PATH`. The lab runs two of them to join the `cp` namespace to the machine's
// Postgres (see Lab.bridgePostgres). Prints "forwarding <listen> -> <connect>" once it accepts connections.
import { createConnection, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

type Endpoint = { path: string } | { host: string; port: number };

function parseEndpoint(spec: string | undefined, flag: string): Endpoint {
  const m = spec?.match(/^unix:(.+)$/) ?? null;
  if (m) {
    return { path: m[1] };
  }
  const t = spec?.match(/^tcp:([^:]+):(\d{1,5})$/) ?? null;
  if (t && Number(t[2]) > 0 && Number(t[2]) < 65536) {
    return { host: t[1], port: Number(t[2]) };
  }
  console.error(`forward: ${flag} must be tcp:HOST:PORT or unix:PATH, got ${JSON.stringify(spec)}`);
  process.exit(2);
}

const arg = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const listen = parseEndpoint(arg('--listen'), '--listen');
const connect = parseEndpoint(arg('--connect'), '--connect');

/** Pipe both directions, keeping half-closes (Postgres clients end with a Terminate then FIN). */
function join(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const destroyBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth);
  b.on('error', destroyBoth);
}

const server = createServer({ allowHalfOpen: true }, (inbound) => {
  const outbound = createConnection({ ...connect, allowHalfOpen: true });
  join(inbound, outbound);
});
if ('path' in listen) {
  rmSync(listen.path, { force: true });
}
server.listen(listen, () => {
  console.log(`forwarding ${arg('--listen')} -> ${arg('--connect')}`);
});
server.on('error', (err) => {
  console.error(`forward: ${err.message}`);
  process.exit(1);
});
const stop = (): void => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop).on('SIGINT', stop);
