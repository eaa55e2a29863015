// The desired IPVS state for one Service, as translate produces it and reconcile consumes it.
import type { V1Node } from '@kubernetes/client-node';
import type { IpFamily } from '../net/ip.js';
import type { SchedulerFlag, SchedulerName } from '../ipvs/schedulers.js';
import { hostPort } from '../net/ip.js';

export type { IpFamily } from '../net/ip.js';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
/** Which Service entry point a virtual server implements. */
export type EntryKind = 'ClusterIP' | 'NodePort' | 'ExternalIP' | 'LoadBalancer';
export type TrafficPolicy = 'Cluster' | 'Local';

/** "namespace/name" of a Service. */
export type ServiceKey = string & { readonly __serviceKey: true };
export function serviceKey(namespace: string, name: string): ServiceKey {
  return `${namespace}/${name}` as ServiceKey;
}

/** "TCP/10.0.0.1:80", "UDP/[fd00::a]:53": protocol, canonical address and port. */
export type VirtualServerKey = string & { readonly __virtualServerKey: true };
export function virtualServerKey(
  protocol: Protocol,
  address: string,
  port: number,
): VirtualServerKey {
  return `${protocol}/${hostPort(address, port)}` as VirtualServerKey;
}

export interface RealServer {
  /** Canonical IP text, same family as its virtual server. */
  readonly address: string;
  readonly port: number;
  /** Always 1 from translate; draining (weight 0) is reconcile's business. */
  readonly weight: number;
}

export interface ServiceOwner {
  readonly namespace: string;
  readonly name: string;
  /** The Service port's name; "" for an unnamed port. */
  readonly portName: string;
  /** The Service port's number (spec.ports[].port; a NodePort entry listens elsewhere). */
  readonly servicePort: number;
  readonly kind: EntryKind;
}

export interface VirtualServer {
  readonly key: VirtualServerKey;
  readonly family: IpFamily;
  readonly protocol: Protocol;
  /** Canonical IP text (RFC 5952 for IPv6). */
  readonly address: string;
  readonly port: number;
  readonly scheduler: SchedulerName;
  /** Canonical (flag-1..3 = IP_VS_SVC_F_SCHED1..3), sorted; see displayFlags for sh/mh names. */
  readonly schedulerFlags: readonly SchedulerFlag[];
  /** Seconds of ClientIP persistence; 0 = not persistent. */
  readonly persistenceTimeout: number;
  /** Persistence granularity as a prefix length: 32 for IPv4, 128 for IPv6 (per client IP). */
  readonly netmask: number;
  /** The traffic policy that chose the real servers (Local: only this node's endpoints). */
  readonly trafficPolicy: TrafficPolicy;
  /**
   * LoadBalancer entries only: allowed client CIDRs of this family from
   * spec.loadBalancerSourceRanges. Absent = no restriction; [] = nobody (ranges were given,
   * none of this family).
   */
  readonly sourceRanges?: readonly string[];
  /** Sorted by address (numerically) then port. May be empty (traffic is dropped). */
  readonly realServers: readonly RealServer[];
  readonly owner: ServiceOwner;
}

/** Something translate left out, and why. */
export interface Skipped {
  /** "Service ns/name", "EndpointSlice ns/name", "Node name". */
  readonly object: string;
  /** Field path inside the object, e.g. "spec.ports[1].protocol"; "" for the whole object. */
  readonly field: string;
  readonly reason: string;
}

/**
 * What translate needs to know about the node it runs on.
 */
export interface NodeContext {
  /** Compared with endpoints[].nodeName for the Local traffic policies. */
  readonly name: string;
  /**
   * Every IP address configured on this host's interfaces (both families), as read from
   * the kernel, EXCLUDING the addresses kube-ipvs itself bound on its dummy interface.
   * NodePort virtual servers are created on those of them that nodePortAddresses selects.
   */
  readonly addresses: readonly string[];
  /** The Node object, if known: its InternalIPs define nodePortAddresses: [primary]. */
  readonly node?: V1Node;
}

export interface TranslateOptions {
  /**
   * Virtual IPs of all Services known to the caller (ClusterIPs, externalIPs, LB IPs). An
   * endpoint at one of them is skipped (R7.5). The Service's own VIPs are always checked.
   */
  readonly virtualIPs?: ReadonlySet<string>;
}

export interface HealthCheck {
  readonly nodePort: number;
  /** Ready endpoints of the Service on this node (largest count over the IP families). */
  readonly localEndpoints: number;
}

export interface TranslateResult {
  /** Sorted: IPv4 first, then address, protocol, port. Keys are unique. */
  readonly virtualServers: readonly VirtualServer[];
  /** Input left out, and why. Sorted by object, field, reason; no duplicates. */
  readonly skipped: readonly Skipped[];
  /**
   * Fallbacks and assumptions that left no input out (a bad annotation replaced by the
   * config's scheduler, a Local policy with no endpoint here so traffic is dropped, a slice
   * port no Service port uses, NodePorts with no node address). Same order, no duplicates.
   */
  readonly warnings: readonly Skipped[];
  /** Present for externalTrafficPolicy Local Services with a healthCheckNodePort. */
  readonly healthCheck?: HealthCheck;
}
