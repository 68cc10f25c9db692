// An "unmodified" TCP server for the lab: it knows nothing about Palisade. Each line it receives is answered
// with `echo:<line>`; each connection is logged, so a test can see who reached it (and who did not).
//   node dist/e2e/apps/echo-server.js --port 8106 [--host 0.0.0.0] [--tls-cert F --tls-key F [--tls-max TLSv1.2]]
// Prints "listening HOST:PORT" when ready, "connection N from ADDR:PORT" and "closed N" per connection.
// The TLS options make it an application that speaks TLS itself — used to prove the capture tooling
// recognises real TLS 1.3 (and tells TLS 1.2 apart), not by the Palisade tests.
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureVersion } from 'node:tls';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8106' },
    host: { type: 'string', default: '0.0.0.0' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-max': { type: 'string', default: 'TLSv1.3' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`echo-server: --port must be 1-65535, got ${values.port}`);
  process.exit(2);
}

let count = 0;
function handle(socket: Socket): void {
  const n = ++count;
  console.log(`connection ${n} from ${socket.remoteAddress}:${socket.remotePort}`);
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).replace(/\r$/, '');
      buffered = buffered.slice(nl + 1);
      socket.write(`echo:${line}\n`);
    }
  });
  socket.on('end', () => socket.end());
  socket.on('error', (err) =>
    console.log(`error ${n} ${(err as NodeJS.ErrnoException).code ?? err.message}`),
  );
  socket.on('close', () => console.log(`closed ${n}`));
}

let server: Server;
if (values['tls-cert'] && values['tls-key']) {
  server = createTlsServer(
    {
      cert: readFileSync(values['tls-cert']),
      key: readFileSync(values['tls-key']),
      maxVersion: values['tls-max'] as SecureVersion,
      minVersion: 'TLSv1.2',
      allowHalfOpen: true,
    },
    handle,
  );
} else {
  server = createServer({ allowHalfOpen: true }, handle);
}
server.on('error', (err) => {
  console.error(`echo-server: ${err.message}`);
  process.exit(1);
});
server.listen(port, values.host, () => console.log(`listening ${values.host}:${port}`));
const stop = (): void => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop).on('SIGINT', stop);
