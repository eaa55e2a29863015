// Translate's first step: the addresses a Service is reached at. Its virtual IPs (cluster
// IPs, externalIPs, load-balancer ingress IPs) and this node's NodePort addresses, each
// validated once. serviceVirtualIPs is the one definition of "a Service's VIPs", used by
// translate and by the store (an endpoint at any Service's VIP is refused, R7.5).
import type { V1Service } from '@kubernetes/client-node';
import {
  cidrContains,
  classifyIp,
  describeClass,
  parseCidr,
  parseIp,
  type Cidr,
  type Ip,
  type IpFamily,
} from '../net/ip.js';
import { arr, isObj, obj, show, str, type Obj, Report } from './input.js';
import type { NodeContext } from './types.js';

export const FAMILIES: readonly IpFamily[] = ['IPv4', 'IPv6'];

export type ProxiedType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

export interface EntryAddress {
  readonly ip: Ip;
  /** Where it came from, for reports: "spec.externalIPs[0]". */
  readonly field: string;
}

export interface EntryAddresses {
  readonly type: ProxiedType;
  readonly spec: Obj;
  /** One per family (R16.1, dual-stack). */
  readonly clusterIPs: ReadonlyMap<IpFamily, Ip>;
  /** The Service's families, IPv4 first. */
  readonly families: readonly IpFamily[];
  readonly externalIPs: readonly EntryAddress[];
  /** status.loadBalancer.ingress IPs of a LoadBalancer, except ipMode Proxy (R15.2). */
  readonly lbIPs: readonly EntryAddress[];
  /** spec.loadBalancerSourceRanges, when given (LoadBalancer only). */
  readonly sourceRanges?: readonly Cidr[];
}

/** Parses a VIP: an IP address of class unicast; anything else is reported. */
function vip(raw: unknown, object: string, field: string, report: Report): Ip | undefined {
  const ip = parseIp(raw);
  if (!ip) report.skip(object, field, `${show(raw)} is not an IP address`);
  else {
    const cls = classifyIp(ip);
    if (cls === 'unicast') return ip;
    report.skip(object, field, `${ip.text} is ${describeClass(cls)}`);
  }
  return undefined;
}

/**
 * The Service's virtual IPs, or undefined when it is not proxied at all: ExternalName (R4.4)
 * and headless (R4.5) silently, a bad type, a spec that is not a map, or no usable cluster
 * IP with a report.
 */
export function entryAddresses(
  service: V1Service,
  object: string,
  report: Report,
): EntryAddresses | undefined {
  const rawSpec: unknown = (service as { spec?: unknown }).spec;
  if (!isObj(rawSpec)) {
    report.skip(object, 'spec', `expected a map/object, got ${show(rawSpec)}`);
    return undefined;
  }
  const spec = rawSpec;
  const type = spec.type ?? 'ClusterIP';
  // R4.4: ExternalName is DNS only, whatever externalName holds.
  if (type === 'ExternalName') return undefined;
  if (type !== 'ClusterIP' && type !== 'NodePort' && type !== 'LoadBalancer') {
    report.skip(
      object,
      'spec.type',
      `${show(type)} is not ClusterIP, NodePort, LoadBalancer or ExternalName`,
    );
    return undefined;
  }

  // Cluster IPs, one per family (R16.1, dual-stack).
  const rawIPs = arr(spec.clusterIPs).length > 0 ? arr(spec.clusterIPs) : [spec.clusterIP];
  const ipsField = arr(spec.clusterIPs).length > 0 ? 'spec.clusterIPs' : 'spec.clusterIP';
  // R4.5: headless Services are not proxied.
  if (rawIPs[0] === 'None' || spec.clusterIP === 'None') return undefined;
  if (rawIPs[0] === undefined || rawIPs[0] === null || rawIPs[0] === '') {
    report.skip(object, 'spec.clusterIP', 'no cluster IP allocated');
    return undefined;
  }
  const clusterIPs = new Map<IpFamily, Ip>();
  rawIPs.forEach((raw, i) => {
    const field = ipsField === 'spec.clusterIPs' ? `spec.clusterIPs[${i}]` : ipsField;
    const ip = vip(raw, object, field, report);
    if (!ip) return;
    if (clusterIPs.has(ip.family)) report.skip(object, field, `second ${ip.family} cluster IP`);
    else clusterIPs.set(ip.family, ip);
  });
  if (clusterIPs.size === 0) return undefined;
  const families = FAMILIES.filter((f) => clusterIPs.has(f));

  // Other entry addresses must be of one of the Service's families.
  const ofFamily = (raw: unknown, field: string): EntryAddress | undefined => {
    const ip = vip(raw, object, field, report);
    if (!ip) return undefined;
    if (clusterIPs.has(ip.family)) return { ip, field };
    report.skip(
      object,
      field,
      `${ip.text} is ${ip.family}, not a family of this Service (${families.join(', ')})`,
    );
    return undefined;
  };
  const externalIPs: EntryAddress[] = [];
  arr(spec.externalIPs).forEach((raw, i) => {
    const e = ofFamily(raw, `spec.externalIPs[${i}]`);
    if (e) externalIPs.push(e);
  });
  const lbIPs: EntryAddress[] = [];
  let sourceRanges: Cidr[] | undefined;
  if (type === 'LoadBalancer') {
    arr(obj(obj(obj(service.status).loadBalancer)).ingress).forEach((rawIngress, i) => {
      const ingress = obj(rawIngress);
      // ipMode Proxy: the load balancer delivers to the node address, not to the VIP.
      if (ingress.ipMode === 'Proxy') return;
      // Hostname-only ingress (R15.2): nothing to program, no lookup.
      if (ingress.ip === undefined || ingress.ip === null || ingress.ip === '') return;
      const e = ofFamily(ingress.ip, `status.loadBalancer.ingress[${i}].ip`);
      if (e) lbIPs.push(e);
    });
    if (arr(spec.loadBalancerSourceRanges).length > 0) {
      const ranges: Cidr[] = [];
      arr(spec.loadBalancerSourceRanges).forEach((raw, i) => {
        const c = parseCidr(typeof raw === 'string' ? raw.trim() : raw);
        if (c) ranges.push(c);
        else
          report.skip(
            object,
            `spec.loadBalancerSourceRanges[${i}]`,
            `${show(raw)} is not a CIDR; the range is left out (fails closed)`,
          );
      });
      sourceRanges = ranges;
    }
  }
  return {
    type,
    spec,
    clusterIPs,
    families,
    externalIPs,
    lbIPs,
    ...(sourceRanges ? { sourceRanges } : {}),
  };
}

/** The canonical texts of all the virtual IPs of `e`. */
export function virtualIPsOf(e: EntryAddresses): string[] {
  return [
    ...[...e.clusterIPs.values()].map((ip) => ip.text),
    ...e.externalIPs.map((x) => x.ip.text),
    ...e.lbIPs.map((x) => x.ip.text),
  ];
}

/**
 * A Service's virtual IPs, canonical text, as translate programs them: its cluster IPs,
 * externalIPs, and, for a LoadBalancer, the ingress IPs not in ipMode Proxy; only valid
 * unicast addresses of the Service's families. None for ExternalName and headless Services.
 */
export function serviceVirtualIPs(service: V1Service | undefined): string[] {
  if (!service) return [];
  const name = str(obj(service.metadata).name) ?? '';
  const e = entryAddresses(service, name, new Report());
  return e ? [...new Set(virtualIPsOf(e))] : [];
}

/**
 * This node's addresses that NodePorts are programmed on, as nodePortAddresses selects
 * them. An empty result is explained by a warning (NodePorts are then left out).
 */
export function nodePortAddresses(
  node: NodeContext,
  selectors: readonly string[],
  report: Report,
): Ip[] {
  const object = `Node ${node.name}`;
  const found = new Map<string, Ip>();
  if (selectors.length === 1 && selectors[0] === 'primary') {
    if (node.node === undefined) {
      report.warn(
        'Config',
        'nodePortAddresses',
        '[primary] needs the Node object, which is not known (kube-ipvs render reads no Nodes); NodePorts are left out',
      );
      return [];
    }
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
      report.skip(
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
      report.skip(object, `addresses[${i}]`, `${show(raw)} is not an IP address`);
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
  if (found.size === 0) {
    report.warn(
      object,
      'addresses',
      arr(node.addresses).length === 0
        ? 'no addresses are known for this node; NodePorts are left out'
        : `none of the node's addresses is selected by nodePortAddresses (${selectors.length === 0 ? 'all but loopback' : selectors.join(', ')}); NodePorts are left out`,
    );
  }
  return [...found.values()];
}
