import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own so apps in one process stay apart. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'stowage_' });
  return {
    registry,
    requests: new Counter({
      name: 'stowage_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'stowage_http_request_duration_seconds',
      help: 'HTTP request duration by method and route pattern',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers: [registry],
    }),
    bytesWritten: new Counter({ name: 'stowage_object_bytes_written_total', help: 'Bytes of objects stored', registers: [registry] }),
    bytesRead: new Counter({ name: 'stowage_object_bytes_read_total', help: 'Bytes of objects served', registers: [registry] }),
    bytesOffloaded: new Counter({
      name: 'stowage_object_bytes_offloaded_total',
      help: "Bytes of objects served by nginx or the S3 store on this server's answer (read offload; also in stowage_object_bytes_read_total)",
      labelNames: ['mode'] as const,
      registers: [registry],
    }),
    fastReads: new Counter({
      name: 'stowage_http_fast_reads_total',
      help: 'GET and HEAD requests of small objects answered by the fast read path (also counted in stowage_http_requests_total)',
      registers: [registry],
    }),
    inFlight: new Gauge({ name: 'stowage_http_requests_in_flight', help: 'Requests being served now', registers: [registry] }),
    refused: new Counter({
      name: 'stowage_http_requests_refused_total',
      help: 'Requests refused with 503 Overloaded because the in-flight limit was reached',
      registers: [registry],
    }),
    expiredSwept: new Counter({
      name: 'stowage_expired_objects_swept_total',
      help: 'Expired objects removed by the sweeper',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Counts an answered request and its duration: the route's onResponse hook and the fast read path. */
export function recordRequest(metrics: Metrics, method: string, route: string, status: number, seconds: number): void {
  metrics.requests.inc({ method, route, status });
  metrics.duration.observe({ method, route }, seconds);
}
