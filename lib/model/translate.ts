// Service + its EndpointSlices + this node + config → the IPVS virtual servers this node
// should have for that Service. Pure: no I/O, no clock, no randomness; the output does not
// depend on the order of slices, endpoints or ports. Bad input never throws: the offending
// object, port or endpoint is left out and reported in `skipped`.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { KubeIpvsConfig } from '../config/schema.js';
import {
  cidrContains,
  classifyIp,
  compareIps,
  parseCidr,
  parseIp,
  type Cidr,
  type Ip,
  type IpFamily,
} from '../net/ip.js';
import { resolveScheduler, type SchedulerChoice } from './scheduler.js';
import {
  virtualServerKey,
  type EntryKind,
  type HealthCheck,
  type NodeContext,
  type Protocol,
  type RealServer,
  type Skipped,
  type TrafficPolicy,
  type TranslateOptions,
  type TranslateResult,
  type VirtualServer,
} from './types.js';

export type TranslateConfig = Pick<
  KubeIpvsConfig,
  'scheduler' | 'schedulerFlags' | 'services' | 'nodePortAddresses'
>;

/** kube-apiserver's default for sessionAffinityConfig.clientIP.timeoutSeconds (R9.2). */
export const DEFAULT_AFFINITY_TIMEOUT = 10800;
const MAX_AFFINITY_TIMEOUT = 86400;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
const FAMILIES: readonly IpFamily[] = ['IPv4', 'IPv6'];
/** When two entries of one Service land on the same key, the earlier kind wins. */
const KIND_ORDER: readonly EntryKind[] = ['ClusterIP', 'LoadBalancer', 'ExternalIP', 'NodePort'];

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

function validPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

interface Endpoint {
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

class Report {
  readonly items: Skipped[] = [];
  add(object: string, field: string, reason: string): void {
    this.items.push({ object, field, reason });
  }
  sorted(): Skipped[] {
    const seen = new Set<string>();
    const out: Skipped[] = [];
    for (const s of this.items) {
      const k = `${s.object}\u0000${s.field}\u0000${s.reason}`;
      if (!seen.has(k)) {
        seen.add(k);
        out.push(s);
      }
    }
    return out.sort(
      (a, b) => cmp(a.object, b.object) || cmp(a.field, b.field) || cmp(a.reason, b.reason),
    );
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Endpoints of one family, by "portName/protocol", each keyed by "ip|port". */
type EndpointIndex = Map<string, Map<string, Endpoint>>;
const portKey = (name: string, protocol: Protocol) => `${name}/${protocol}`;

function indexSlices(
  slices: readonly V1EndpointSlice[],
  namespace: string,
  serviceName: string,
  forbidden: ReadonlySet<string>,
  report: Report,
): Map<IpFamily, EndpointIndex> {
  const byFamily = new Map<IpFamily, EndpointIndex>(FAMILIES.map((f) => [f, new Map()]));
  for (const raw of arr(slices)) {
    const slice = obj(raw);
    const meta = obj(slice.metadata);
    const sliceName = str(meta.name) ?? '(unnamed)';
    const object = `EndpointSlice ${str(meta.namespace) ?? 'default'}/${sliceName}`;
    if ((str(meta.namespace) ?? 'default') !== namespace) {
      report.add(object, 'metadata.namespace', `not in the Service's namespace ${namespace}`);
      continue;
    }
    const owner = obj(meta.labels)[SERVICE_NAME_LABEL];
    if (owner !== serviceName) {
      report.add(
        object,
        `metadata.labels["${SERVICE_NAME_LABEL}"]`,
        `is ${show(owner)}, not the Service's name ${show(serviceName)}`,
      );
      continue;
    }
    const addressType = slice.addressType;
    if (addressType !== 'IPv4' && addressType !== 'IPv6') {
      report.add(object, 'addressType', `${show(addressType)} is not supported (IPv4 or IPv6)`);
      continue;
    }
    const family: IpFamily = addressType;
    const index = byFamily.get(family) as EndpointIndex;

    // Endpoints are validated once per slice, not once per port.
    const endpoints: Omit<Endpoint, 'port'>[] = [];
    arr(slice.endpoints).forEach((rawEp, i) => {
      const ep = obj(rawEp);
      const field = `endpoints[${i}].addresses[0]`;
      const first = arr(ep.addresses)[0];
      const ip = parseIp(first);
      if (!ip) {
        report.add(object, field, `${show(first)} is not an IP address`);
        return;
      }
      if (ip.family !== family) {
        report.add(object, field, `${ip.text} is ${ip.family} in an ${family} slice`);
        return;
      }
      const cls = classifyIp(ip);
      if (cls !== 'unicast') {
        report.add(object, field, `${ip.text} is a ${cls} address, not allowed as an endpoint`);
        return;
      }
      if (forbidden.has(ip.text)) {
        report.add(object, field, `${ip.text} is a Service virtual IP, not allowed as an endpoint`);
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
        report.add(object, `ports[${i}].name`, `${show(p.name)} is not a string`);
        return;
      }
      if (!PROTOCOLS.includes(protocol as Protocol)) {
        report.add(object, `ports[${i}].protocol`, `${show(protocol)} is not TCP, UDP or SCTP`);
        return;
      }
      if (!validPort(p.port)) {
        report.add(object, `ports[${i}].port`, `${show(p.port)} is not a port (1-65535)`);
        return;
      }
      const key = portKey(name, protocol as Protocol);
      let bucket = index.get(key);
      if (!bucket) index.set(key, (bucket = new Map()));
      for (const e of endpoints) {
        const candidate: Endpoint = { ...e, port: p.port };
        const k = `${e.ip.text}|${p.port}`;
        const old = bucket.get(k);
        if (!old || better(candidate, old)) bucket.set(k, candidate);
      }
    });
  }
  return byFamily;
}

function nodePortAddresses(node: NodeContext, selectors: readonly string[], report: Report): Ip[] {
  const object = `Node ${node.name}`;
  const found = new Map<string, Ip>();
  if (selectors.length === 1 && selectors[0] === 'primary') {
    const addrs = arr(obj(obj(node.node).status).addresses).map(obj);
    for (const family of FAMILIES) {
      for (const type of ['InternalIP', 'ExternalIP']) {
        const hit = addrs
          .filter((a) => a.type === type)
          .map((a) => parseIp(a.address))
          .find((ip) => ip?.family === family);
        if (hit) {
          found.set(hit.text, hit);
          break;
        }
      }
    }
    if (found.size === 0) {
      report.add(
        object,
        'status.addresses',
        'nodePortAddresses is [primary] but the Node has no InternalIP or ExternalIP',
      );
    }
    return [...found.values()];
  }
  const cidrs = selectors.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  arr(node.addresses).forEach((raw, i) => {
    const ip = parseIp(raw);
    if (!ip) {
      report.add(object, `addresses[${i}]`, `${show(raw)} is not an IP address`);
      return;
    }
    const cls = classifyIp(ip);
    if (cidrs.length === 0) {
      // kube-proxy's default: every local address but loopback and IPv6 link-local.
      if (cls === 'loopback' || (cls === 'link-local' && ip.family === 'IPv6')) return;
    } else if (!cidrs.some((c) => cidrContains(c, ip))) {
      return;
    }
    if (
      cls === 'unspecified' ||
      cls === 'multicast' ||
      cls === 'broadcast' ||
      cls === 'ipv4-mapped'
    )
      return;
    found.set(ip.text, ip);
  });
  return [...found.values()];
}

interface Draft {
  vs: VirtualServer;
  ip: Ip;
  kind: EntryKind;
  order: number;
  field: string;
}

/**
 * The virtual servers `node` should have for `service`. `slices` are the Service's
 * EndpointSlices (others are reported and ignored). See NodeContext for the node input.
 */
export function translate(
  service: V1Service,
  slices: readonly V1EndpointSlice[],
  node: NodeContext,
  config: TranslateConfig,
  options: TranslateOptions = {},
): TranslateResult {
  const report = new Report();
  const meta = obj(service?.metadata);
  const namespace = str(meta.namespace) ?? 'default';
  const name = str(meta.name);
  const object = `Service ${namespace}/${name ?? '(unnamed)'}`;
  const nothing = (): TranslateResult => ({ virtualServers: [], skipped: report.sorted() });
  if (!name) {
    report.add(object, 'metadata.name', 'missing');
    return nothing();
  }
  const spec = obj(service.spec);
  const type = spec.type ?? 'ClusterIP';
  // R4.4: ExternalName is DNS only, whatever externalName holds.
  if (type === 'ExternalName') return nothing();
  if (type !== 'ClusterIP' && type !== 'NodePort' && type !== 'LoadBalancer') {
    report.add(
      object,
      'spec.type',
      `${show(type)} is not ClusterIP, NodePort, LoadBalancer or ExternalName`,
    );
    return nothing();
  }

  // Cluster IPs, one per family (R16.1, dual-stack).
  const rawIPs = arr(spec.clusterIPs).length > 0 ? arr(spec.clusterIPs) : [spec.clusterIP];
  const ipsField = arr(spec.clusterIPs).length > 0 ? 'spec.clusterIPs' : 'spec.clusterIP';
  // R4.5: headless Services are not proxied.
  if (rawIPs[0] === 'None' || spec.clusterIP === 'None') return nothing();
  if (rawIPs[0] === undefined || rawIPs[0] === null || rawIPs[0] === '') {
    report.add(object, 'spec.clusterIP', 'no cluster IP allocated');
    return nothing();
  }
  const clusterIPs = new Map<IpFamily, Ip>();
  rawIPs.forEach((raw, i) => {
    const field = ipsField === 'spec.clusterIPs' ? `spec.clusterIPs[${i}]` : ipsField;
    const ip = parseIp(raw);
    if (!ip) report.add(object, field, `${show(raw)} is not an IP address`);
    else if (classifyIp(ip) !== 'unicast')
      report.add(object, field, `${ip.text} is a ${classifyIp(ip)} address`);
    else if (clusterIPs.has(ip.family)) report.add(object, field, `second ${ip.family} cluster IP`);
    else clusterIPs.set(ip.family, ip);
  });
  if (clusterIPs.size === 0) return nothing();
  const families = FAMILIES.filter((f) => clusterIPs.has(f));

  // Other entry addresses, validated once.
  const familyOk = (ip: Ip, field: string): boolean => {
    if (clusterIPs.has(ip.family)) return true;
    report.add(
      object,
      field,
      `${ip.text} is ${ip.family}, not a family of this Service (${families.join(', ')})`,
    );
    return false;
  };
  const externalIPs: { ip: Ip; field: string }[] = [];
  arr(spec.externalIPs).forEach((raw, i) => {
    const field = `spec.externalIPs[${i}]`;
    const ip = parseIp(raw);
    if (!ip) report.add(object, field, `${show(raw)} is not an IP address`);
    else if (classifyIp(ip) !== 'unicast')
      report.add(object, field, `${ip.text} is a ${classifyIp(ip)} address`);
    else if (familyOk(ip, field)) externalIPs.push({ ip, field });
  });
  const lbIPs: { ip: Ip; field: string }[] = [];
  if (type === 'LoadBalancer') {
    arr(obj(obj(obj(service.status).loadBalancer)).ingress).forEach((rawIngress, i) => {
      const ingress = obj(rawIngress);
      // ipMode Proxy: the load balancer delivers to the node address, not to the VIP.
      if (ingress.ipMode === 'Proxy') return;
      // Hostname-only ingress (R15.2): nothing to program, no lookup.
      if (ingress.ip === undefined || ingress.ip === null || ingress.ip === '') return;
      const field = `status.loadBalancer.ingress[${i}].ip`;
      const ip = parseIp(ingress.ip);
      if (!ip) report.add(object, field, `${show(ingress.ip)} is not an IP address`);
      else if (classifyIp(ip) !== 'unicast')
        report.add(object, field, `${ip.text} is a ${classifyIp(ip)} address`);
      else if (familyOk(ip, field)) lbIPs.push({ ip, field });
    });
  }
  let sourceRanges: Cidr[] | undefined;
  if (type === 'LoadBalancer' && arr(spec.loadBalancerSourceRanges).length > 0) {
    sourceRanges = [];
    arr(spec.loadBalancerSourceRanges).forEach((raw, i) => {
      const c = parseCidr(typeof raw === 'string' ? raw.trim() : raw);
      if (c) sourceRanges?.push(c);
      else
        report.add(
          object,
          `spec.loadBalancerSourceRanges[${i}]`,
          `${show(raw)} is not a CIDR; the range is left out (fails closed)`,
        );
    });
  }

  // Policies.
  const policy = (field: string, v: unknown): TrafficPolicy => {
    if (v === undefined || v === null || v === 'Cluster') return 'Cluster';
    if (v === 'Local') return 'Local';
    report.add(object, `spec.${field}`, `${show(v)} is not Cluster or Local; using Cluster`);
    return 'Cluster';
  };
  const internalPolicy = policy('internalTrafficPolicy', spec.internalTrafficPolicy);
  const externallyAccessible = type !== 'ClusterIP' || externalIPs.length > 0;
  const externalPolicy = externallyAccessible
    ? policy('externalTrafficPolicy', spec.externalTrafficPolicy)
    : 'Cluster';

  // Session affinity → persistence (R9.1, R9.2).
  let persistence = 0;
  if (spec.sessionAffinity === 'ClientIP') {
    const t = obj(obj(spec.sessionAffinityConfig).clientIP).timeoutSeconds;
    if (t === undefined || t === null) persistence = DEFAULT_AFFINITY_TIMEOUT;
    else if (typeof t === 'number' && Number.isInteger(t) && t >= 1 && t <= MAX_AFFINITY_TIMEOUT)
      persistence = t;
    else {
      report.add(
        object,
        'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
        `${show(t)} is not 1-${MAX_AFFINITY_TIMEOUT}; using ${DEFAULT_AFFINITY_TIMEOUT}`,
      );
      persistence = DEFAULT_AFFINITY_TIMEOUT;
    }
  } else if (
    spec.sessionAffinity !== undefined &&
    spec.sessionAffinity !== null &&
    spec.sessionAffinity !== 'None'
  ) {
    report.add(
      object,
      'spec.sessionAffinity',
      `${show(spec.sessionAffinity)} is not None or ClientIP; using None`,
    );
  }

  const sched = resolveScheduler(service, config, object);
  for (const w of sched.warnings) report.add(w.object, w.field, w.reason);
  const choice: SchedulerChoice = sched.choice;

  // Endpoint addresses that may not be real servers: this Service's VIPs and the caller's.
  const forbidden = new Set<string>(options.virtualIPs ?? []);
  for (const ip of clusterIPs.values()) forbidden.add(ip.text);
  for (const e of [...externalIPs, ...lbIPs]) forbidden.add(e.ip.text);
  const index = indexSlices(slices, namespace, name, forbidden, report);

  const wantNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  const nodeIPs = wantNodePorts ? nodePortAddresses(node, config.nodePortAddresses, report) : [];
  const nodeName = typeof node?.name === 'string' ? node.name : '';

  const drafts: Draft[] = [];
  const localReady = new Map<IpFamily, Set<string>>();
  let order = 0;
  arr(spec.ports).forEach((rawPort, i) => {
    const sp = obj(rawPort);
    const pfield = `spec.ports[${i}]`;
    const portName = sp.name === undefined || sp.name === null ? '' : str(sp.name);
    const protocol = sp.protocol === undefined || sp.protocol === null ? 'TCP' : sp.protocol;
    if (portName === undefined)
      return report.add(object, `${pfield}.name`, `${show(sp.name)} is not a string`);
    if (!PROTOCOLS.includes(protocol as Protocol)) {
      return report.add(object, `${pfield}.protocol`, `${show(protocol)} is not TCP, UDP or SCTP`);
    }
    const proto = protocol as Protocol;
    if (!validPort(sp.port))
      return report.add(object, `${pfield}.port`, `${show(sp.port)} is not a port (1-65535)`);
    const port = sp.port;
    let nodePort: number | undefined;
    if (wantNodePorts) {
      if (validPort(sp.nodePort)) nodePort = sp.nodePort;
      else if (sp.nodePort !== undefined && sp.nodePort !== null)
        report.add(object, `${pfield}.nodePort`, `${show(sp.nodePort)} is not a port (1-65535)`);
      else if (type === 'NodePort' || spec.allocateLoadBalancerNodePorts !== false)
        report.add(object, `${pfield}.nodePort`, 'no node port allocated');
      // R15.3: allocateLoadBalancerNodePorts false and no nodePort: nothing to program.
    }

    for (const family of families) {
      const bucket = index.get(family)?.get(`${portName}/${proto}`);
      const all = bucket ? [...bucket.values()] : [];
      const local = all.filter((e) => nodeName !== '' && e.nodeName === nodeName);
      const clusterSet = usableEndpoints(all);
      const localSet = usableEndpoints(local);
      let seen = localReady.get(family);
      if (!seen) localReady.set(family, (seen = new Set()));
      for (const e of local) if (e.ready) seen.add(e.ip.text);

      const toReal = (eps: Endpoint[]): RealServer[] =>
        eps
          .slice()
          .sort((a, b) => compareIps(a.ip, b.ip) || a.port - b.port)
          .map((e) => ({ address: e.ip.text, port: e.port, weight: 1 }));
      const internal = toReal(internalPolicy === 'Local' ? localSet : clusterSet);
      const external = toReal(externalPolicy === 'Local' ? localSet : clusterSet);

      const add = (
        ip: Ip,
        at: number,
        kind: EntryKind,
        pol: TrafficPolicy,
        rs: RealServer[],
        field: string,
      ) => {
        const ranges =
          kind === 'LoadBalancer' && sourceRanges
            ? {
                sourceRanges: sourceRanges
                  .filter((c) => c.family === family)
                  .map((c) => c.text)
                  .sort(),
              }
            : {};
        drafts.push({
          ip,
          kind,
          field,
          order: order++,
          vs: {
            key: virtualServerKey(proto, ip.text, at),
            family,
            protocol: proto,
            address: ip.text,
            port: at,
            scheduler: choice.scheduler,
            schedulerFlags: choice.flags,
            persistenceTimeout: persistence,
            netmask: family === 'IPv4' ? 32 : 128,
            trafficPolicy: pol,
            ...ranges,
            realServers: rs,
            owner: { namespace, name, portName, kind },
          },
        });
      };
      add(clusterIPs.get(family) as Ip, port, 'ClusterIP', internalPolicy, internal, pfield);
      for (const e of lbIPs)
        if (e.ip.family === family)
          add(e.ip, port, 'LoadBalancer', externalPolicy, external, e.field);
      for (const e of externalIPs)
        if (e.ip.family === family)
          add(e.ip, port, 'ExternalIP', externalPolicy, external, e.field);
      if (nodePort !== undefined) {
        for (const ip of nodeIPs)
          if (ip.family === family)
            add(ip, nodePort, 'NodePort', externalPolicy, external, `${pfield}.nodePort`);
      }
    }
  });

  // One virtual server per key; collisions inside a Service resolve by kind, then port order.
  drafts.sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.order - b.order,
  );
  const byKey = new Map<string, Draft>();
  for (const d of drafts) {
    const first = byKey.get(d.vs.key);
    if (first) {
      report.add(
        object,
        d.field,
        `${d.kind} entry ${d.vs.key} duplicates the ${first.kind} entry of port ${show(first.vs.owner.portName)}; left out`,
      );
    } else {
      byKey.set(d.vs.key, d);
    }
  }
  const virtualServers = [...byKey.values()]
    .sort(
      (a, b) =>
        compareIps(a.ip, b.ip) ||
        PROTOCOLS.indexOf(a.vs.protocol) - PROTOCOLS.indexOf(b.vs.protocol) ||
        a.vs.port - b.vs.port,
    )
    .map((d) => d.vs);

  let healthCheck: HealthCheck | undefined;
  if (
    type === 'LoadBalancer' &&
    externalPolicy === 'Local' &&
    spec.healthCheckNodePort !== undefined
  ) {
    if (validPort(spec.healthCheckNodePort)) {
      healthCheck = {
        nodePort: spec.healthCheckNodePort,
        localEndpoints: Math.max(0, ...[...localReady.values()].map((s) => s.size)),
      };
    } else {
      report.add(
        object,
        'spec.healthCheckNodePort',
        `${show(spec.healthCheckNodePort)} is not a port (1-65535)`,
      );
    }
  }
  return { virtualServers, skipped: report.sorted(), ...(healthCheck ? { healthCheck } : {}) };
}
