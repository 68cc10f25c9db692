import type { Socket } from 'node:net';
import type { ProcessConfig } from './config/config';
import { findSocketOwner, matchProcess } from './identity';

/**
 * Which declared processing unit a local client connection belongs to: the process that owns the client end of
 * the socket (found through /proc, in transparent and explicit mode alike) matched against the configuration's
 * process rules in order; the host identity for every other local process. A connection whose owner cannot be
 * found (it is not local, or it is gone) gets no identity and is refused.
 */
export class ProcessResolver {
  constructor(
    private readonly rules: ProcessConfig[],
    private readonly hostName: string,
  ) {}

  async resolve(sock: Socket): Promise<string | null> {
    if (!sock.remoteAddress || !sock.remotePort || !sock.localAddress || !sock.localPort) {
      return null;
    }
    const owner = await findSocketOwner(sock.remoteAddress, sock.remotePort, sock.localAddress, sock.localPort);
    if (!owner) {
      return null;
    }
    if (this.rules.length === 0) {
      return this.hostName;
    }
    const i = matchProcess(owner, this.rules);
    return i >= 0 ? this.rules[i].name : this.hostName;
  }
}
