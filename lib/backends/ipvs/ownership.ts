// Which IPVS virtual servers on a node are kube-ipvs's to change: those on a virtual
// address (bound to the dummy interface) and NodePorts on the node's own addresses,
// outside excludeCIDRs. Anything else (keepalived's, a hand-made test service) is never
// touched, not even by cleanup. Pure.
import type { IpvsService } from '../../../bindings/ipvs/types.js';
import { cidrContains, parseCidr, parseIp } from '../../net/ip.js';
import type { VirtualServerKey } from '../../model/types.js';
import { ipvsServiceKey } from './key.js';

/** Kubernetes' default --service-node-port-range. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

export interface Ownership {
  readonly virtualAddresses: ReadonlySet<string>;
  readonly nodeAddresses: ReadonlySet<string>;
  readonly excludeCIDRs: readonly string[];
  /** Keys desired now: owned on any port of a node address. */
  readonly wanted: (key: VirtualServerKey) => boolean;
}

export function excluded(address: string, cidrs: readonly string[]): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  return cidrs.some((c) => {
    const cidr = parseCidr(c);
    return cidr !== undefined && cidrContains(cidr, ip);
  });
}

export function owns(o: Ownership, s: IpvsService): boolean {
  const key = ipvsServiceKey(s);
  if (!key || excluded(s.address, o.excludeCIDRs)) return false;
  if (o.virtualAddresses.has(s.address)) return true;
  if (!o.nodeAddresses.has(s.address)) return false;
  return o.wanted(key) || (s.port >= NODE_PORT_RANGE.min && s.port <= NODE_PORT_RANGE.max);
}
