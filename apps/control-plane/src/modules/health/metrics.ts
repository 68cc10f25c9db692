import { collectDefaultMetrics, Histogram, register } from 'prom-client';

let started = false;

/** HTTP request latency by method, route template and status (route templates keep cardinality bounded). */
export const httpDuration = new Histogram({
  name: 'palisade_http_request_duration_seconds',
  help: 'HTTP request latency',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [register],
});

/** Process metrics (CPU, memory, event loop lag); idempotent because tests start several apps per process. */
export function startDefaultMetrics(): void {
  if (!started) {
    started = true;
    collectDefaultMetrics({ register, prefix: 'palisade_' });
  }
}
