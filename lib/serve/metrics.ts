// Every metric kube-ipvs exports, in one registry, prefix kube_ipvs_. Dashboards and alerts
// depend on these names, types and label sets: a unit test pins them, and the README's
// Metrics section is generated from this registry (scripts/gen-metrics-docs.mjs).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRIC_PREFIX = 'kube_ipvs_';

/**
 * kube-proxy's network_programming_duration_seconds buckets (pkg/proxy/metrics): 0.25 s and
 * 0.5 s, then every second to 59 s, every 5 s to 115 s, every 30 s to 300 s.
 */
export const NETWORK_PROGRAMMING_BUCKETS: readonly number[] = [
  0.25,
  0.5,
  ...Array.from({ length: 59 }, (_, i) => i + 1),
  ...Array.from({ length: 12 }, (_, i) => 60 + 5 * i),
  ...Array.from({ length: 7 }, (_, i) => 120 + 30 * i),
];

/** kube-proxy's sync_proxy_rules_duration_seconds buckets: exponential from 1 ms, ×2, 15 of them. */
export const SYNC_DURATION_BUCKETS: readonly number[] = Array.from(
  { length: 15 },
  (_, i) => 0.001 * 2 ** i,
);

export type BindTarget = 'metrics' | 'healthz' | 'health-check-node-port';

export interface Metrics {
  readonly registry: Registry;
  readonly syncDuration: Histogram<'kind'>;
  readonly networkProgramming: Histogram<never>;
  readonly operations: Counter<'operation' | 'result'>;
  readonly virtualServers: Gauge<never>;
  readonly realServers: Gauge<never>;
  readonly drainingRealServers: Gauge<never>;
  readonly backend: Gauge<'mode'>;
  readonly lastSuccessfulSync: Gauge<never>;
  readonly configReloads: Counter<'result'>;
  readonly skippedObjects: Counter<'reason'>;
  readonly netlinkErrors: Counter<'errno'>;
  readonly bindFailures: Counter<'server'>;
  readonly healthCheckNodePorts: Gauge<never>;
}

/** The programmed state's sizes. */
export interface ProgrammedCounts {
  virtualServers: number;
  realServers: number;
  draining: number;
}

/**
 * A new registry holding kube-ipvs' own metrics (not the process ones: see serve/server).
 * The programmed gauges read `programmed` when scraped: counting real servers walks every
 * virtual server, which per sync would make each endpoint change cost O(all Services).
 */
export function createMetrics(programmed?: () => ProgrammedCounts): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const p = METRIC_PREFIX;
  return {
    registry,
    syncDuration: new Histogram({
      name: `${p}sync_duration_seconds`,
      help: 'Time one sync step took, from its start to the last kernel write: kind "full" (kernel dump, every Service), "partial" (the changed Services) or "drain" (draining real servers).',
      labelNames: ['kind'],
      buckets: [...SYNC_DURATION_BUCKETS],
      registers,
    }),
    networkProgramming: new Histogram({
      name: `${p}network_programming_duration_seconds`,
      help: "Time from an EndpointSlice change (its endpoints.kubernetes.io/last-change-trigger-time annotation) to the kernel write that programmed it, as kube-proxy's network_programming_duration_seconds.",
      buckets: [...NETWORK_PROGRAMMING_BUCKETS],
      registers,
    }),
    operations: new Counter({
      name: `${p}sync_operations_total`,
      help: 'Kernel operations applied, by operation (addService, updateService, deleteService, addDestination, updateDestination, deleteDestination, bindAddress, unbindAddress) and result (ok or failed).',
      labelNames: ['operation', 'result'],
      registers,
    }),
    virtualServers: new Gauge({
      name: `${p}virtual_servers`,
      help: 'Virtual servers kube-ipvs has programmed and owns, after the last sync.',
      registers,
      collect() {
        if (programmed) this.set(programmed().virtualServers);
      },
    }),
    realServers: new Gauge({
      name: `${p}real_servers`,
      help: 'Real servers of the programmed virtual servers (draining ones included), after the last sync.',
      registers,
      collect() {
        if (programmed) this.set(programmed().realServers);
      },
    }),
    drainingRealServers: new Gauge({
      name: `${p}draining_real_servers`,
      help: 'Removed TCP or SCTP real servers kept at weight 0 until their connections end or gracefulTermination.timeout passes.',
      registers,
      collect() {
        if (programmed) this.set(programmed().draining);
      },
    }),
    backend: new Gauge({
      name: `${p}backend`,
      help: 'The data plane in use: 1 for its mode ("ipvs" or "iptables"), as /proxyMode prints it.',
      labelNames: ['mode'],
      registers,
    }),
    lastSuccessfulSync: new Gauge({
      name: `${p}last_successful_sync_timestamp_seconds`,
      help: 'When the last successful sync ended (seconds since the epoch): the one /healthz measures its age from.',
      registers,
    }),
    configReloads: new Counter({
      name: `${p}config_reloads_total`,
      help: 'Config file reloads, by result: "success" (applied) or "failure" (rejected; the running config stays).',
      labelNames: ['result'],
      registers,
    }),
    skippedObjects: new Counter({
      name: `${p}skipped_objects_total`,
      help: 'Parts of Services, EndpointSlices and Nodes left out of the desired state, counted when a Service\'s report changes; reason is the object kind and field ("Service spec.ports[].protocol").',
      labelNames: ['reason'],
      registers,
    }),
    netlinkErrors: new Counter({
      name: `${p}netlink_errors_total`,
      help: 'Kernel operations the kernel refused, by errno name ("EEXIST", "EINVAL"; "other" for a failure without one).',
      labelNames: ['errno'],
      registers,
    }),
    bindFailures: new Counter({
      name: `${p}bind_failures_total`,
      help: 'Failed attempts to listen, by server: "metrics", "healthz" or "health-check-node-port" (port in use, address not on the node); each is retried with backoff.',
      labelNames: ['server'],
      registers,
    }),
    healthCheckNodePorts: new Gauge({
      name: `${p}health_check_node_ports`,
      help: 'Health-check node ports served (listening, or retrying a failed bind), one per LoadBalancer Service with externalTrafficPolicy Local and a healthCheckNodePort.',
      registers,
    }),
  };
}

export interface MetricDescription {
  name: string;
  type: string;
  labels: string[];
  help: string;
}

/** Name, type, label names and help of every metric in a registry, sorted by name. */
export function describeMetrics(registry: Registry): MetricDescription[] {
  return registry
    .getMetricsAsArray()
    .map((m) => {
      const labels = (m as unknown as { labelNames?: unknown }).labelNames;
      return {
        name: m.name,
        type: String(m.type),
        labels: Array.isArray(labels) ? labels.map(String).filter((l) => l !== 'le') : [],
        help: m.help,
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
