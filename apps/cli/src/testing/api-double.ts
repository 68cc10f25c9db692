/**
 * A stand-in for the control plane's HTTPS API, for the CLI's end-to-end tests while the real control plane
 * is being written: a real `node:https` server (real TLS 1.3, real certificates) that records every request
 * exactly as it arrived and answers from a table of canned replies. Unrouted requests get the API's 404
 * error envelope, so a CLI that calls a wrong path fails its test visibly.
 */
import { createServer, type Server } from 'node:https';
import { type AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Reply {
  status: number;
  /** Serialised as JSON unless it is a string. */
  body?: unknown;
  contentType?: string;
}

export interface ApiDouble {
  url: string;
  requests: RecordedRequest[];
  /** Sets the reply for `METHOD /path` (query ignored), replacing an earlier one. */
  route(method: string, path: string, reply: Reply): void;
  reset(): void;
  close(): Promise<void>;
}

/** The API's error envelope, as issue 2 fixes it. */
export function envelope(statusCode: number, code: string, message: string, details?: unknown[]): Reply {
  return { status: statusCode, body: { statusCode, code, message, requestId: `req-${code}`, ...(details ? { details } : {}) } };
}

/** Starts the double on 127.0.0.1 on a free port with the given server key and certificate. */
export async function startApiDouble(tls: { keyPem: string; certPem: string }): Promise<ApiDouble> {
  const routes = new Map<string, Reply>();
  const requests: RecordedRequest[] = [];
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem, minVersion: 'TLSv1.3' }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'https://double');
      requests.push({
        method: req.method ?? '',
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const reply = routes.get(`${req.method} ${u.pathname}`) ?? envelope(404, 'route_not_found', `no route ${req.method} ${u.pathname}`);
      const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json; charset=utf-8' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    route: (method, path, reply) => void routes.set(`${method} ${path}`, reply),
    reset: () => {
      routes.clear();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
