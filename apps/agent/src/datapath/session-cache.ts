// Client-side TLS session cache for resumption. TLS 1.3 tickets arrive after the handshake (the
// 'session' event); the newest one per (PU, upstream) is kept, bounded in count and age so a ticket
// never outlives the server's lifetime hint by much. A Map keeps insertion order, so eviction of the
// oldest entry is O(1).
import { CLIENT_SESSION_CACHE_MAX, CLIENT_SESSION_MAX_AGE_MS } from './limits';

export class SessionCache {
  private readonly entries = new Map<string, { session: Buffer; at: number }>();

  constructor(
    private readonly max = CLIENT_SESSION_CACHE_MAX,
    private readonly maxAgeMs = CLIENT_SESSION_MAX_AGE_MS,
  ) {}

  get(key: string): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e) {
      return undefined;
    }
    if (Date.now() - e.at > this.maxAgeMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.session;
  }

  set(key: string, session: Buffer): void {
    this.entries.delete(key);
    this.entries.set(key, { session, at: Date.now() });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  dropPrefix(prefix: string): void {
    for (const k of this.entries.keys()) {
      if (k.startsWith(prefix)) {
        this.entries.delete(k);
      }
    }
  }
}
