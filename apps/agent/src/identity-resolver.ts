import type { Socket } from 'node:net';
import type { ProcessConfig } from './config/config';
import { matchProcess, ownerOfAcceptedSocket } from './identity';

/**
 * Which declared processing unit a local client connection belongs to: the process that owns the client end of
 * the socket (found through /proc, in transparent and explicit mode alike) matched against the configuration's
 * process rules in order (the first match wins); the host identity for every other local process. A connection
 * whose owner cannot be found (it is not local, or it is already gone) gets no identity and is refused.
 */
export class ProcessResolver {
  constructor(
    private readonly rules: ProcessConfig[],
    private readonly hostName: string,
  ) {}

  resolve(sock: Socket): string | null {
    // With no process rules every local process is the host identity, so the /proc lookup (a read of the whole
    // socket table per connection — the cost of a new connection) is skipped for loopback peers, which are
    // local by construction. Any other peer is still looked up: the lookup is also what proves it is local.
    if (this.rules.length === 0 && isLoopback(sock.remoteAddress)) {
      return this.hostName;
    }
    const owner = ownerOfAcceptedSocket(sock);
    if (!owner) {
      return null;
    }
    return matchProcess(owner, this.rules)?.name ?? this.hostName;
  }
}

function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.'));
}
