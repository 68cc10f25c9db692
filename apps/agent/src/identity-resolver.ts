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
    const owner = ownerOfAcceptedSocket(sock);
    if (!owner) {
      return null;
    }
    return matchProcess(owner, this.rules)?.name ?? this.hostName;
  }
}
