import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's gauges whose names end in `_total`, which Prometheus reserves for counters (`promtool check metrics`
 * warns about each). Each is the sum of a gauge that stays: `sum(nodejs_active_handles)` and so on.
 */
const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The Node.js process metrics under their standard unprefixed names (`process_cpu_seconds_total`,
 * `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, `nodejs_gc_duration_seconds`, …), as the usual
 * Node.js dashboards query them, on gateways and probers alike. A dashboard tells the processes apart by Prometheus's
 * `job` and `instance` labels, so no prefix is needed for that; one registry per process serves them.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(name);
}
