// Translate's second step: endpoint choice. The Service's EndpointSlices are indexed by
// family and port (name, protocol), each endpoint validated once per slice; then for each
// set a virtual server draws from (all endpoints, or this node's under a Local policy) the
// usable ones are chosen as kube-proxy does (KEP-1669).
import type { V1EndpointSlice } from '@kubernetes/client-node';
import {
  classifyIp,
  compareIps,
  describeClass,
  parseIp,
  type Ip,
  type IpFamily,
} from '../net/ip.js';
import { FAMILIES } from './entries.js';
import { arr, obj, show, str, validPort, type Report } from './input.js';
import type { Protocol, RealServer } from './types.js';

/** Label linking an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export interface Endpoint {
  ip: Ip;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName: string;
}

/** Higher is better: a duplicate endpoint keeps its best record, whatever the slice order. */
function rank(e: Endpoint): number {
  return e.ready ? 2 : e.serving ? 1 : 0;
}

function better(a: Endpoint, b: Endpoint): boolean {
  return rank(a) !== rank(b)
    ? rank(a) > rank(b)
    : a.terminating !== b.terminating
      ? !a.terminating
      : a.nodeName < b.nodeName;
}

/**
 * KEP-1669 (as kube-proxy since 1.28): the ready endpoints; if none is ready, the ones that
 * are serving and terminating.
 */
export function usableEndpoints<
  T extends { ready: boolean; serving: boolean; terminating: boolean },
>(endpoints: readonly T[]): T[] {
  const ready = endpoints.filter((e) => e.ready);
  return ready.length > 0 ? ready : endpoints.filter((e) => e.serving && e.terminating);
}

export const portKey = (name: string, protocol: Protocol): string => `${name}/${protocol}`;

/** Where a slice port was declared, to name it when no Service port uses it. */
interface PortOrigin {
  object: string;
  field: string;
  name: string;
  protocol: Protocol;
}

/** The Service's endpoints: per family, per portKey, each keyed by "ip|port". */
export interface EndpointIndex {
  readonly byFamily: ReadonlyMap<IpFamily, ReadonlyMap<string, ReadonlyMap<string, Endpoint>>>;
  /** Every valid slice port, by portKey. */
  readonly origins: ReadonlyMap<string, readonly PortOrigin[]>;
}

/** An endpoint's first address as a real server's, or why it cannot be one. */
function usableAddress(
  first: unknown,
  family: IpFamily,
  forbidden: Pick<ReadonlySet<string>, 'has'>,
): Ip | string {
  const ip = parseIp(first);
  if (!ip) return `${show(first)} is not an IP address`;
  if (ip.family !== family) return `${ip.text} is ${ip.family} in an ${family} slice`;
  const cls = classifyIp(ip);
  if (cls !== 'unicast') return `${ip.text} is ${describeClass(cls)}, not allowed as an endpoint`;
  if (forbidden.has(ip.text))
    return `${ip.text} is a Service virtual IP, not allowed as an endpoint`;
  return ip;
}

/**
 * Indexes the Service's slices. Slices of another namespace or Service, unsupported address
 * types, bad ports, and endpoints that may not be real servers (not unicast, or at a VIP in
 * `forbidden`, R7.5) are reported and left out.
 */
export function indexSlices(
  slices: readonly V1EndpointSlice[],
  namespace: string,
  serviceName: string,
  forbidden: Pick<ReadonlySet<string>, 'has'>,
  report: Report,
): EndpointIndex {
  const byFamily = new Map<IpFamily, Map<string, Map<string, Endpoint>>>(
    FAMILIES.map((f) => [f, new Map()]),
  );
  const origins = new Map<string, PortOrigin[]>();
  for (const raw of arr(slices)) {
    const slice = obj(raw);
    const meta = obj(slice.metadata);
    const sliceName = str(meta.name) ?? '(unnamed)';
    const object = `EndpointSlice ${str(meta.namespace) ?? 'default'}/${sliceName}`;
    if ((str(meta.namespace) ?? 'default') !== namespace) {
      report.skip(object, 'metadata.namespace', `not in the Service's namespace ${namespace}`);
      continue;
    }
    const owner = obj(meta.labels)[SERVICE_NAME_LABEL];
    if (owner !== serviceName) {
      report.skip(
        object,
        `metadata.labels["${SERVICE_NAME_LABEL}"]`,
        `is ${show(owner)}, not the Service's name ${show(serviceName)}`,
      );
      continue;
    }
    const addressType = slice.addressType;
    if (addressType !== 'IPv4' && addressType !== 'IPv6') {
      report.skip(object, 'addressType', `${show(addressType)} is not supported (IPv4 or IPv6)`);
      continue;
    }
    const family: IpFamily = addressType;
    const index = byFamily.get(family) as Map<string, Map<string, Endpoint>>;

    // Endpoints are validated once per slice, not once per port.
    const endpoints: Omit<Endpoint, 'port'>[] = [];
    arr(slice.endpoints).forEach((rawEp, i) => {
      const ep = obj(rawEp);
      const ip = usableAddress(arr(ep.addresses)[0], family, forbidden);
      if (typeof ip === 'string') {
        // The field's name is built only for a report: 100 000 endpoints have none.
        report.skip(object, `endpoints[${i}].addresses[0]`, ip);
        return;
      }
      const c = obj(ep.conditions);
      endpoints.push({
        ip,
        // API semantics: unset ready and serving mean true, unset terminating means false.
        ready: typeof c.ready === 'boolean' ? c.ready : true,
        serving: typeof c.serving === 'boolean' ? c.serving : true,
        terminating: c.terminating === true,
        nodeName: str(ep.nodeName) ?? '',
      });
    });

    arr(slice.ports).forEach((rawPort, i) => {
      const p = obj(rawPort);
      const name = p.name === undefined || p.name === null ? '' : str(p.name);
      const protocol = p.protocol === undefined || p.protocol === null ? 'TCP' : p.protocol;
      if (name === undefined) {
        report.skip(object, `ports[${i}].name`, `${show(p.name)} is not a string`);
        return;
      }
      if (!PROTOCOLS.includes(protocol as Protocol)) {
        report.skip(object, `ports[${i}].protocol`, `${show(protocol)} is not TCP, UDP or SCTP`);
        return;
      }
      if (!validPort(p.port)) {
        report.skip(object, `ports[${i}].port`, `${show(p.port)} is not a port (1-65535)`);
        return;
      }
      const key = portKey(name, protocol as Protocol);
      let from = origins.get(key);
      if (!from) origins.set(key, (from = []));
      // Named by name and protocol, not index: the report must not depend on port order.
      from.push({ object, field: 'ports', name, protocol: protocol as Protocol });
      let bucket = index.get(key);
      if (!bucket) index.set(key, (bucket = new Map()));
      for (const e of endpoints) {
        // One literal, not a spread: a spread plus a property costs a slower object per
        // endpoint and port, and twice the translate time at 100 000 endpoints.
        const candidate: Endpoint = {
          ip: e.ip,
          port: p.port,
          ready: e.ready,
          serving: e.serving,
          terminating: e.terminating,
          nodeName: e.nodeName,
        };
        const k = `${e.ip.text}|${p.port}`;
        const old = bucket.get(k);
        if (!old || better(candidate, old)) bucket.set(k, candidate);
      }
    });
  }
  return { byFamily, origins };
}

/** Warns about slice ports that no Service port (name and protocol) asked for. */
export function reportUnmatchedPorts(
  index: EndpointIndex,
  used: ReadonlySet<string>,
  service: string,
  report: Report,
): void {
  for (const [key, from] of index.origins) {
    if (used.has(key)) continue;
    for (const o of from)
      report.warn(
        o.object,
        o.field,
        `port ${show(o.name)}/${o.protocol} matches no port of ${service}; its endpoints are not used for it`,
      );
  }
}

/** The endpoint sets one Service port of one family draws from. */
export interface EndpointChoice {
  /** The usable endpoints of the whole cluster (Cluster policy). */
  readonly cluster: readonly RealServer[];
  /** The usable endpoints on this node (Local policy). */
  readonly local: readonly RealServer[];
  /** Addresses of this node's ready endpoints (for the health check node port). */
  readonly localReady: readonly string[];
}

function toReal(eps: readonly Endpoint[]): RealServer[] {
  return eps
    .slice()
    .sort((a, b) => compareIps(a.ip, b.ip) || a.port - b.port)
    .map((e) => ({ address: e.ip.text, port: e.port, weight: 1 }));
}

export function chooseEndpoints(
  index: EndpointIndex,
  family: IpFamily,
  portName: string,
  protocol: Protocol,
  nodeName: string,
): EndpointChoice {
  const bucket = index.byFamily.get(family)?.get(portKey(portName, protocol));
  const all = bucket ? [...bucket.values()] : [];
  const local = all.filter((e) => nodeName !== '' && e.nodeName === nodeName);
  return {
    cluster: toReal(usableEndpoints(all)),
    local: toReal(usableEndpoints(local)),
    localReady: local.filter((e) => e.ready).map((e) => e.ip.text),
  };
}
