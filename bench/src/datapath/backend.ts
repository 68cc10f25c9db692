// The application behind every condition: one plain TCP server in its own process, so its CPU is never
// charged to the load generator. A connection whose first byte is 'B' is a bulk upload: it is discarded
// and answered with "ok" after the client's FIN. Any other connection is an echo: every byte comes back,
// which makes a 1 KiB write a 1 KiB request/response.
//   node dist/bench/src/datapath/backend.js PORT   (prints "listening PORT")
import { createServer, type Socket } from 'node:net';

function handle(s: Socket): void {
  s.setNoDelay(true);
  s.on('error', () => undefined);
  s.once('data', (first: Buffer) => {
    if (first[0] === 0x42 /* 'B' */) {
      s.on('data', () => undefined);
      s.once('end', () => s.end('ok'));
      return;
    }
    s.write(first);
    s.on('data', (c: Buffer) => s.write(c));
    s.once('end', () => s.end());
  });
}

const port = Number(process.argv[2]);
const server = createServer({ allowHalfOpen: true, noDelay: true }, handle);
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
