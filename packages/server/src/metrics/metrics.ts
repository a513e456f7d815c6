import type { SecurityEvent } from "../events/security-events.js";
import type { PoolStats } from "../storage/contract.js";

/** Prometheus metrics of one server (docs/api.md, HTTP API `GET /metrics`); every method is a no-op when off. */
export interface Metrics {
  readonly enabled: boolean;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  observeQuery(durationMs: number, failed: boolean): void;
  onEvent(event: SecurityEvent): void;
  render(): Promise<string>;
  readonly contentType: string;
}

const OFF: Metrics = {
  enabled: false,
  observeRequest() {},
  observeQuery() {},
  onEvent() {},
  render: async () => "",
  contentType: "text/plain",
};

/** Creates the metrics registry (importing prom-client only then); `poolStats` reports the database pool (PostgreSQL only). */
export async function createMetrics(enabled: boolean, poolStats: () => PoolStats | undefined): Promise<Metrics> {
  if (!enabled) return OFF;
  // Loaded only when metrics are on: prom-client is several MB of resident memory otherwise idle.
  const { Counter, Gauge, Histogram, Registry } = await import("prom-client");
  const registry = new Registry();
  const requests = new Counter({
    name: "hush_http_requests_total",
    help: "HTTP requests by route, method and status",
    labelNames: ["route", "method", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "hush_http_request_duration_seconds",
    help: "HTTP request duration by route",
    labelNames: ["route", "method"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const refreshes = new Counter({ name: "hush_refreshes_total", help: "Successful refreshes", registers: [registry] });
  const reuse = new Counter({
    name: "hush_refresh_reuse_detected_total",
    help: "Retired refresh tokens replayed after the grace (sessions revoked)",
    registers: [registry],
  });
  const limited = new Counter({
    name: "hush_rate_limit_hits_total",
    help: "Requests refused by a rate limit",
    labelNames: ["limit"],
    registers: [registry],
  });
  const events = new Counter({
    name: "hush_security_events_total",
    help: "Security events by type",
    labelNames: ["type"],
    registers: [registry],
  });
  const queries = new Histogram({
    name: "hush_db_query_duration_seconds",
    help: "Database query duration",
    labelNames: ["outcome"],
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [registry],
  });
  new Gauge({
    name: "hush_db_pool_connections",
    help: "Database pool connections by state (PostgreSQL)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const stats = poolStats();
      if (!stats) return;
      this.set({ state: "total" }, stats.total);
      this.set({ state: "idle" }, stats.idle);
      this.set({ state: "waiting" }, stats.waiting);
    },
  });
  return {
    enabled: true,
    observeRequest(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      duration.observe({ route, method }, seconds);
    },
    observeQuery(durationMs, failed) {
      queries.observe({ outcome: failed ? "error" : "ok" }, durationMs / 1000);
    },
    onEvent(event) {
      events.inc({ type: event.type });
      if (event.type === "refresh") refreshes.inc();
      else if (event.type === "refresh_token_reused") reuse.inc();
      else if (event.type === "rate_limited") limited.inc({ limit: event.reason ?? "unknown" });
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
