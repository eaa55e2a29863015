// Health-check node ports (R10.6, kube-proxy's service health server): which ports should
// listen for which Service, what to open and close to get there, and what each answers.
// Pure.
import type { HealthCheck } from '../model/types.js';

export interface HealthCheckEntry {
  readonly port: number;
  readonly namespace: string;
  readonly name: string;
  readonly localEndpoints: number;
}

export interface HealthCheckSet {
  /** By port. */
  readonly ports: ReadonlyMap<number, HealthCheckEntry>;
  /** Services whose port another Service (first by key) already holds. */
  readonly conflicts: readonly { service: string; port: number; holder: string }[];
}

/** From the health checks by service key ("namespace/name") to one entry per port. */
export function healthCheckSet(checks: ReadonlyMap<string, HealthCheck>): HealthCheckSet {
  const ports = new Map<number, HealthCheckEntry>();
  const conflicts: { service: string; port: number; holder: string }[] = [];
  // The API server allocates each port once; if two Services still claim one, the
  // outcome must not depend on the order they arrived in.
  for (const key of [...checks.keys()].sort()) {
    const c = checks.get(key) as HealthCheck;
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const held = ports.get(c.nodePort);
    if (held) {
      conflicts.push({ service: key, port: c.nodePort, holder: `${held.namespace}/${held.name}` });
      continue;
    }
    ports.set(c.nodePort, { port: c.nodePort, namespace, name, localEndpoints: c.localEndpoints });
  }
  return { ports, conflicts };
}

export interface ListenAt {
  readonly port: number;
  /** undefined: every address. */
  readonly host: string | undefined;
}

/**
 * Where each port listens: on every address, or (nodePortAddresses set, as kube-proxy) on
 * each of the node addresses it selects. Keyed "port host" for the diff.
 */
export function listenersFor(
  ports: Iterable<number>,
  hosts: readonly string[] | undefined,
): Map<string, ListenAt> {
  const out = new Map<string, ListenAt>();
  for (const port of ports) {
    if (hosts === undefined) out.set(`${port} *`, { port, host: undefined });
    else for (const host of hosts) out.set(`${port} ${host}`, { port, host });
  }
  return out;
}

const order = <K extends number | string>(a: K, b: K): number => (a < b ? -1 : a > b ? 1 : 0);

/** Listeners to open and to close to go from `open` to `want`; each sorted. */
export function diffListeners<K extends number | string>(
  open: Iterable<K>,
  want: ReadonlyMap<K, unknown>,
): { open: K[]; close: K[] } {
  const have = new Set(open);
  return {
    open: [...want.keys()].filter((p) => !have.has(p)).sort(order),
    close: [...have].filter((p) => !want.has(p)).sort(order),
  };
}

export interface HealthCheckResponse {
  status: 200 | 503;
  headers: Record<string, string>;
  body: string;
}

/**
 * What a health-check node port answers, on any path: 200 while the Service has a ready
 * endpoint on this node and the proxy is healthy, else 503 (the load balancer then takes
 * the node out). The body and header are kube-proxy's.
 */
export function healthCheckResponse(
  e: HealthCheckEntry,
  proxyHealthy: boolean,
): HealthCheckResponse {
  return {
    status: e.localEndpoints > 0 && proxyHealthy ? 200 : 503,
    headers: {
      'content-type': 'application/json',
      'x-content-type-options': 'nosniff',
      'x-load-balancing-endpoint-weight': String(e.localEndpoints),
    },
    body: JSON.stringify({
      service: { namespace: e.namespace, name: e.name },
      localEndpoints: e.localEndpoints,
      serviceProxyHealthy: proxyHealthy,
    }),
  };
}
