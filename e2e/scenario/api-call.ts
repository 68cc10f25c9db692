// A minimal API client for the lab: `node api-call.js METHOD PATH [BODY]` with PALISADE_URL, PALISADE_TOKEN and
// PALISADE_CA in the environment. Prints `<status> <json>` on one line. Runs inside a lab host (the control plane's
// address is only reachable from the lab network), so the test process drives the API through it.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

const [method, path, body] = process.argv.slice(2);
const url = new URL(path, process.env.PALISADE_URL);
const data = body === undefined ? undefined : Buffer.from(body === '-' ? readFileSync(0) : body);
const isYaml = data !== undefined && !/^\s*[[{]/.test(data.toString('utf8'));
const req = request(
  {
    host: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    method,
    ca: readFileSync(process.env.PALISADE_CA as string),
    headers: {
      authorization: `Bearer ${process.env.PALISADE_TOKEN}`,
      ...(data ? { 'content-type': isYaml ? 'application/yaml' : 'application/json', 'content-length': data.length } : {}),
    },
  },
  (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      process.stdout.write(`${res.statusCode} ${Buffer.concat(chunks).toString('utf8').replace(/\n/g, ' ')}\n`);
    });
  },
);
req.on('error', (e) => {
  process.stdout.write(`0 ${JSON.stringify({ error: e.message })}\n`);
  process.exitCode = 3;
});
req.end(data);
