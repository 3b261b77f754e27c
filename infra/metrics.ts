// The process's Prometheus metrics (prom-client): process and Node.js health, the API's requests,
// and the business events that happen outside workflows (warehouse files). Events inside the order
// workflow and its activities are counted through Temporal's metric meter instead
// (workflows/order/record.ts, activities/): Core exports them with the SDK's own metrics on the
// worker's WORKER_CORE_METRICS_ADDRESS, once per event, never again on replay.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const metrics = new Registry();
collectDefaultMetrics({ register: metrics });

export const httpRequests = new Counter({
  name: 'http_requests_total',
  help: 'API requests answered, by method, route (the route template, not the path) and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metrics],
});

export const httpRequestSeconds = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'API request latency, by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metrics],
});

export const warehouseFiles = new Counter({
  name: 'warehouse_files_total',
  help: 'Warehouse response files taken (inbox, SFTP or API), by warehouse and outcome: accepted, duplicate or quarantined',
  labelNames: ['warehouse', 'outcome'] as const,
  registers: [metrics],
});

export const warehouseRows = new Counter({
  name: 'warehouse_response_rows_total',
  help: 'Rows of accepted warehouse files, by warehouse and kind: valid (applied by the dispatch job), rejected, or exception (no such order)',
  labelNames: ['warehouse', 'kind'] as const,
  registers: [metrics],
});

export const metricsContentType = metrics.contentType;
