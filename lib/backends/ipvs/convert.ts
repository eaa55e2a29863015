// The model's VirtualServer → the kernel's IpvsService + IpvsDestination[] (what the
// netlink client sends and ipvsadm prints). Pure.
import {
  AF_INET,
  AF_INET6,
  type AddressFamily,
  type IpProtocol,
  type IpvsDestination,
  type IpvsService,
} from '../../../bindings/ipvs/types.js';
import {
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IP_VS_CONN_F_MASQ,
  IP_VS_SVC_F_PERSISTENT,
} from '../../../bindings/ipvs/constants.js';
import { compareIps, parseIp } from '../../net/ip.js';
import { schedulerFlagBits } from '../../ipvs/schedulers.js';
import type { IpFamily, Protocol, RealServer, VirtualServer } from '../../model/types.js';

export interface IpvsEntry {
  service: IpvsService;
  destinations: IpvsDestination[];
}

export function addressFamily(family: IpFamily): AddressFamily {
  return family === 'IPv4' ? AF_INET : AF_INET6;
}

export function ipProtocol(protocol: Protocol): IpProtocol {
  switch (protocol) {
    case 'TCP':
      return IPPROTO_TCP;
    case 'UDP':
      return IPPROTO_UDP;
    case 'SCTP':
      return IPPROTO_SCTP;
  }
}

/** A prefix length as IpvsService.netmask: IPv4 a host-order u32 mask, IPv6 the length. */
export function ipvsNetmask(family: IpFamily, prefix: number): number {
  if (family === 'IPv6') return prefix;
  if (prefix <= 0) return 0;
  return (0xffffffff << (32 - Math.min(prefix, 32))) >>> 0;
}

export function toIpvsService(vs: VirtualServer): IpvsService {
  const persistent = vs.persistenceTimeout > 0;
  return {
    family: addressFamily(vs.family),
    protocol: ipProtocol(vs.protocol),
    address: vs.address,
    port: vs.port,
    fwmark: 0,
    scheduler: vs.scheduler,
    flags: schedulerFlagBits(vs.schedulerFlags) | (persistent ? IP_VS_SVC_F_PERSISTENT : 0),
    timeout: persistent ? vs.persistenceTimeout : 0,
    netmask: ipvsNetmask(vs.family, vs.netmask),
    peName: '',
  };
}

/**
 * A real server as kube-ipvs adds it: forwarded by NAT, no thresholds, no tunnel. Those six
 * fields are the prototype's, enumerable, so they read and compare as own fields do, and
 * each of the 100 000 destinations the observed table keeps at bench scale holds six
 * fields instead of twelve (4.8 MB). A spread leaves them behind: copy with
 * copyDestination.
 */
class MasqDestination implements IpvsDestination {
  declare forward: number;
  declare upperThreshold: number;
  declare lowerThreshold: number;
  declare tunType: number;
  declare tunPort: number;
  declare tunFlags: number;

  constructor(
    public family: AddressFamily,
    public address: string,
    public port: number,
    public weight: number,
    public activeConns = 0,
    public inactiveConns = 0,
  ) {}
}

Object.assign(MasqDestination.prototype, {
  // kube-ipvs forwards by NAT, as kube-proxy does.
  forward: IP_VS_CONN_F_MASQ,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunType: 0,
  tunPort: 0,
  tunFlags: 0,
});

/** What SET_DEST sets beside the weight: forwarding, thresholds and tunnel. */
export type DestinationSettings = Pick<
  IpvsDestination,
  'forward' | 'upperThreshold' | 'lowerThreshold' | 'tunType' | 'tunPort' | 'tunFlags'
>;

/** The settings of every destination kube-ipvs adds (the prototype's, above). */
const MASQ: DestinationSettings = MasqDestination.prototype;

/** Two destinations' settings agree. */
export function sameSettings(a: DestinationSettings, b: DestinationSettings): boolean {
  return (
    a.forward === b.forward &&
    a.upperThreshold === b.upperThreshold &&
    a.lowerThreshold === b.lowerThreshold &&
    a.tunType === b.tunType &&
    a.tunPort === b.tunPort &&
    a.tunFlags === b.tunFlags
  );
}

/**
 * With the connection counts of a new real server (0), so the observed table can keep the
 * op's own object once the kernel has taken it (reconcile/observed).
 */
export function toIpvsDestinations(vs: VirtualServer): IpvsDestination[] {
  const family = addressFamily(vs.family);
  return vs.realServers.map((rs) => new MasqDestination(family, rs.address, rs.port, rs.weight));
}

/**
 * d at another weight and connection counts, every field written out as one literal: d may
 * be a MasqDestination, whose constant fields a spread would leave behind, and a spread
 * plus properties leaves V8 a dictionary-mode object of about 400 bytes.
 */
export function copyDestination(
  d: IpvsDestination,
  weight: number,
  activeConns: number | undefined,
  inactiveConns: number | undefined,
): IpvsDestination {
  return {
    family: d.family,
    address: d.address,
    port: d.port,
    forward: d.forward,
    weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
    tunType: d.tunType,
    tunPort: d.tunPort,
    tunFlags: d.tunFlags,
    activeConns,
    inactiveConns,
  };
}

/**
 * d is what toIpvsDestinations makes of rs, compared field by field without building it
 * (a resync checks 100 000): rs's own fields, then MasqDestination's constant ones. Its
 * unit test holds it to toIpvsDestinations.
 */
export function isDestinationOf(d: IpvsDestination, rs: RealServer): boolean {
  return (
    d.address === rs.address &&
    d.port === rs.port &&
    d.weight === rs.weight &&
    sameSettings(d, MASQ)
  );
}

export function toIpvsEntry(vs: VirtualServer): IpvsEntry {
  return { service: toIpvsService(vs), destinations: toIpvsDestinations(vs) };
}

function cmpAddress(a: string, b: string): number {
  const pa = parseIp(a);
  const pb = parseIp(b);
  if (pa && pb) return compareIps(pa, pb);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A total order on services by the fields ipvsadm sorts on (family, protocol, address,
 * port), compared numerically; destinations by address then port.
 */
export function sortIpvsEntries(entries: readonly IpvsEntry[]): IpvsEntry[] {
  const sorted = [...entries].sort(
    (x, y) =>
      x.service.family - y.service.family ||
      x.service.protocol - y.service.protocol ||
      cmpAddress(x.service.address, y.service.address) ||
      x.service.port - y.service.port,
  );
  return sorted.map((e) => ({
    service: e.service,
    destinations: [...e.destinations].sort(
      (a, b) => cmpAddress(a.address, b.address) || a.port - b.port,
    ),
  }));
}
