/**
 * Every limit and timeout of the agent's control side in one place (the datapath's own limits live in
 * datapath/limits.ts). Named so a reader can find, and an operator can reason about, each of them.
 */
export const AGENT_VERSION = '0.1.0';

/** First reconnect delay after the control channel drops; doubles up to the max, with full jitter. */
export const RECONNECT_BASE_MS = 250;
export const RECONNECT_MAX_MS = 10_000;
/** The agent pings the control plane this often; two missed pongs close the socket and reconnect. */
export const PING_INTERVAL_MS = 5_000;
/** Renew a certificate at this fraction of its lifetime, plus up to RENEW_JITTER of the lifetime. */
export const RENEW_AT_FRACTION = 0.5;
export const RENEW_JITTER_FRACTION = 0.1;
/** A CSR the control plane has not answered in this long is retried. */
export const CSR_TIMEOUT_MS = 10_000;
/** Flow reports are aggregated for this long before they are sent. */
export const FLOW_REPORT_INTERVAL_MS = 2_000;
/** At most this many aggregated flow records are kept while the control plane is unreachable. */
export const FLOW_BUFFER_MAX = 10_000;
/** How long `enroll` waits for the control plane before it says it is unreachable. */
export const ENROLL_TIMEOUT_MS = 10_000;
/** Default local listen address of the agent's Prometheus metrics. */
export const METRICS_LISTEN = '127.0.0.1:9106';
/** Transparent mode's default agent group (numeric: it need not exist in /etc/group). */
export const DEFAULT_AGENT_GID = 61106;
