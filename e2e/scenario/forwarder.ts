// A plain TCP forwarder standing in for the load balancer when HAProxy is not installed: it terminates each TCP
// connection and opens a new one to the backend, exactly what HAProxy `mode tcp` does (and so it sees only the
// bytes the agents send it — TLS records). Half-close is passed through.
import { createServer, connect, type Server } from 'node:net';

export async function startForwarder(listen: { host: string; port: number }, backend: { host: string; port: number }): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ ...backend, allowHalfOpen: true });
    client.pipe(upstream);
    upstream.pipe(client);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}
