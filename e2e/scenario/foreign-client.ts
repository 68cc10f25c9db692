// A TLS client with a certificate from a CA Palisade does not trust (made with openssl by the test): it must be
// refused. `node foreign-client.js HOST PORT CERT KEY` prints `result ok|refused <detail>`.
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';

const [host, port, cert, key] = process.argv.slice(2);
const s = connect({
  host,
  port: Number(port),
  cert: readFileSync(cert),
  key: readFileSync(key),
  rejectUnauthorized: false,
  minVersion: 'TLSv1.3',
});
const done = (outcome: string, detail: string) => {
  process.stdout.write(`result ${outcome} ${detail}\n`);
  s.destroy();
  process.exit(outcome === 'ok' ? 0 : 2);
};
s.setTimeout(5000, () => done('refused', 'timeout'));
s.on('secureConnect', () => s.write('hello from a foreign CA\n'));
s.on('data', (d: Buffer) => done('ok', JSON.stringify(d.toString('utf8').trim())));
s.on('error', (e: NodeJS.ErrnoException) => done('refused', e.code ?? e.message));
s.on('end', () => done('refused', 'closed'));
s.on('close', () => done('refused', 'closed'));
