// An "unmodified" TCP client for the lab: it knows nothing about Palisade. It connects, sends each line,
// waits for `echo:<line>` back and prints it.
//   node dist/e2e/apps/line-client.js --host H --port P [--line TEXT]... [--timeout MS] [--hold]
//                                     [--tls --ca F --servername N --tls-max TLSv1.2]
// The last stdout line is always "result <outcome> [detail]", with the exit status:
//   ok 0 · refused 2 (ECONNREFUSED) · reset 3 (ECONNRESET) · timeout 4 (no connect/reply in time) ·
//   closed 5 (the peer closed before every reply came) · error 1 (anything else, TLS failures included).
// --hold keeps the connection open after the replies, prints "holding", and then reports how the other side
// ended it: "result closed-by-peer" (FIN) or "result reset-by-peer" (RST), both exit 0 — closing is what a
// held connection is waiting for; SIGTERM while holding prints "result still-open" and exits 6.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureVersion } from 'node:tls';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    line: { type: 'string', multiple: true },
    timeout: { type: 'string', default: '5000' },
    hold: { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    ca: { type: 'string' },
    servername: { type: 'string' },
    'tls-max': { type: 'string', default: 'TLSv1.3' },
  },
});
const port = Number(values.port);
const timeoutMs = Number(values.timeout);
if (!Number.isInteger(port) || port < 1 || port > 65535 || !(timeoutMs > 0)) {
  console.error('line-client: --port 1-65535 is required; --timeout must be a positive number of ms');
  process.exit(2);
}
const lines = values.line?.length ? values.line : ['hello'];

const EXIT = {
  ok: 0,
  error: 1,
  refused: 2,
  reset: 3,
  timeout: 4,
  closed: 5,
  'closed-by-peer': 0,
  'reset-by-peer': 0,
  'still-open': 6,
} as const;
type Outcome = keyof typeof EXIT;
let finished = false;
function finish(outcome: Outcome, detail = ''): void {
  if (finished) {
    return;
  }
  finished = true;
  console.log(`result ${outcome}${detail ? ` ${detail}` : ''}`);
  if (EXIT[outcome] !== 0) {
    console.error(`line-client: ${outcome}${detail ? `: ${detail}` : ''}`);
  }
  socket.destroy();
  process.exit(EXIT[outcome]);
}

const socket: Socket = values.tls
  ? tlsConnect({
      host: values.host,
      port,
      ca: values.ca ? readFileSync(values.ca) : undefined,
      servername: values.servername ?? values.host,
      maxVersion: values['tls-max'] as SecureVersion,
      minVersion: 'TLSv1.2',
    })
  : connect({ host: values.host, port });
let timer = setTimeout(
  () => finish('timeout', `no connection to ${values.host}:${port} in ${timeoutMs} ms`),
  timeoutMs,
);
let pending = 0;
let holding = false;

socket.once(values.tls ? 'secureConnect' : 'connect', () => {
  console.log(
    `connected ${socket.localAddress}:${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort}`,
  );
  clearTimeout(timer);
  timer = setTimeout(() => finish('timeout', `no reply in ${timeoutMs} ms`), timeoutMs);
  for (const l of lines) {
    socket.write(`${l}\n`);
  }
  pending = lines.length;
});

let buffered = '';
socket.setEncoding('utf8');
socket.on('data', (chunk: string) => {
  buffered += chunk;
  let nl: number;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const reply = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const expected = `echo:${lines[lines.length - pending]}`;
    if (reply !== expected) {
      finish('error', `unexpected reply ${JSON.stringify(reply)}, wanted ${JSON.stringify(expected)}`);
      return;
    }
    console.log(`reply ${reply}`);
    if (--pending === 0) {
      clearTimeout(timer);
      if (values.hold) {
        holding = true;
        console.log('holding');
      } else {
        finish('ok');
      }
    }
  }
});
socket.on('end', () =>
  finish(holding ? 'closed-by-peer' : 'closed', holding ? '' : `${pending} repl(ies) missing`),
);
socket.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'ECONNREFUSED') {
    finish('refused', err.message);
  } else if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
    finish(holding ? 'reset-by-peer' : 'reset', err.message);
  } else {
    finish('error', `${err.code ?? ''} ${err.message}`.trim());
  }
});
socket.on('close', () => finish(holding ? 'closed-by-peer' : 'closed', 'connection closed'));
process.on('SIGTERM', () => finish('still-open'));
