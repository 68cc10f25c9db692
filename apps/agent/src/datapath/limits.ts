// Tunable limits of the datapath, in one place (the `ws` package's `maxPayload`, ghostunnel's flags).
// Every listener takes an options object whose fields default to these; the agent's config may override.

/** A TLS handshake (TCP accept → verified peer) must finish within this, or the socket is destroyed. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** No byte in either direction for this long closes the flow (HAProxy `timeout client/server`). */
export const IDLE_TIMEOUT_MS = 300_000;

/**
 * Once one direction has ended (a FIN / close_notify went through), the other direction gets at most this
 * much inactivity before the flow is closed (HAProxy `timeout client-fin` / `server-fin`): a peer that
 * half-closed and then vanished must not pin a flow for the full idle timeout.
 */
export const HALF_CLOSED_TIMEOUT_MS = 30_000;

/** Dialling the application (inbound) or the upstream (outbound) must connect within this. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** Concurrent open flows per flow table (all listeners sharing one table share the cap). */
export const MAX_FLOWS = 10_000;

/** Concurrent TLS handshakes in progress per inbound listener: bounds CPU spent on strangers. */
export const MAX_PENDING_HANDSHAKES = 1_024;

/**
 * Readable high-water mark of the proxied sockets, in bytes. A TLS record carries at most 16 KiB of
 * plaintext; 64 KiB lets one read feed four full records and keeps the number of write() calls (and
 * the per-chunk bookkeeping) low without holding much memory per flow.
 */
export const SOCKET_HIGH_WATER_MARK = 64 * 1024;

/** TLS 1.3 only (DESIGN.md §3 security defaults). */
export const TLS_MIN_VERSION = 'TLSv1.3' as const;

/**
 * TLS 1.3 suites, AES-128-GCM first: it is the fastest AEAD with AES-NI, it is what the benchmark pins
 * for stunnel/HAProxy (issue 7), and 128-bit security matches the P-256 keys anyway.
 */
export const TLS_CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/** Lifetime hint (seconds) of TLS 1.3 session tickets the inbound listener issues. */
export const TLS_SESSION_TIMEOUT_S = 300;

/**
 * The inbound listener's session-ticket key is replaced this often. Node holds one ticket key per
 * context, so a rotation invalidates outstanding tickets: the next connection does a full handshake.
 */
export const TICKET_KEY_ROTATION_MS = 300_000;

/** Client-side cache of TLS sessions for resumption: entries per (PU, upstream) and their age limit. */
export const CLIENT_SESSION_CACHE_MAX = 1_024;
export const CLIENT_SESSION_MAX_AGE_MS = 240_000;

/**
 * Whether the client side offers cached TLS sessions. On except for measurement: the benchmark (issue 7)
 * restarts a client agent with PALISADE_TLS_RESUMPTION=off to measure full handshakes per connection.
 */
export const CLIENT_TLS_RESUMPTION = process.env.PALISADE_TLS_RESUMPTION !== 'off';

/** /proc socket-owner lookups: how long an inode → pid answer is trusted, and how many are kept. */
export const SOCKET_OWNER_CACHE_TTL_MS = 2_000;
export const SOCKET_OWNER_CACHE_MAX = 4_096;
/** Recently seen client pids are searched first (a client that opened one flow usually opens more). */
export const RECENT_OWNER_PIDS = 32;
