// The comment contract of the iptables backend: every virtual server and every real
// server it programs is named, in an `-m comment` of one of its rules, by the line
// `ipvsadm -S -n` would print for it. Reading those comments back gives the same
// IPVS-shaped table the IPVS backend dumps (observe, and later lvsadm on a fallback node).
// This module is the only place that writes or reads that text. Pure.
//
//   virtual server: the first rule of its KUBE-IPVS-SVC- chain, which has no target:
//     -A -t 10.96.0.10:80 -s rr -p 10800
//   real server: the rule of that chain that selects it (jump to its KUBE-IPVS-SEP- chain):
//     -a -t 10.96.0.10:80 -r 10.244.1.5:8080 -m -w 1
import {
  AF_INET,
  AF_INET6,
  type IpvsDestination,
  type IpvsService,
} from '../../../bindings/ipvs/types.js';
import { IP_VS_CONN_F_MASQ, IP_VS_SVC_F_PERSISTENT } from '../../../bindings/ipvs/constants.js';
import { canonicalInet } from '../../../bindings/inet/text.js';
import { destRule, formatSaveEntry, ruleServiceName } from '../../cli/format/save.js';
import { addrPortName } from '../../cli/format/names.js';
import {
  canonicalFlags,
  isSchedulerFlagName,
  schedulerFlagBits,
  type SchedulerFlagName,
} from '../../ipvs/schedulers.js';

const NUMERIC = { numeric: true } as const;

/** The comment naming a virtual server (ipvsadm -Sn's -A line). */
export function serviceComment(s: IpvsService): string {
  return formatSaveEntry({ service: s, destinations: [] }, NUMERIC).trimEnd();
}

/** The comment naming a real server of a virtual server (ipvsadm -Sn's -a line). */
export function destinationComment(s: IpvsService, d: IpvsDestination): string {
  return destRule(
    ruleServiceName(s, NUMERIC),
    addrPortName(d.family, d.address, d.port, s.protocol, NUMERIC),
    d,
  ).trimEnd();
}

const PROTOCOLS: Readonly<Record<string, 6 | 17 | 132>> = {
  '-t': 6,
  '-u': 17,
  '--sctp-service': 132,
};

/** "10.0.0.1:80" or "[fd00::1]:53" → canonical address, port, family; undefined if not one. */
function parseAddrPort(
  text: string,
): { address: string; port: number; family: 2 | 10 } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const v6 = m[1] !== undefined;
  const address = canonicalInet((m[1] ?? m[2]) as string);
  const port = Number(m[3]);
  if (address === undefined || port > 65535 || address.includes(':') !== v6) return undefined;
  return { address, port, family: v6 ? AF_INET6 : AF_INET };
}

function dottedToPrefixMask(text: string): number | undefined {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    return undefined;
  return (
    (((parts[0] as number) << 24) |
      ((parts[1] as number) << 16) |
      ((parts[2] as number) << 8) |
      (parts[3] as number)) >>>
    0
  );
}

/** The virtual server a comment names; undefined when it is not such a comment. */
export function parseServiceComment(text: string): IpvsService | undefined {
  const t = text.split(' ');
  if (t[0] !== '-A') return undefined;
  const protocol = PROTOCOLS[t[1] ?? ''];
  const ap = parseAddrPort(t[2] ?? '');
  if (protocol === undefined || !ap || t[3] !== '-s' || !t[4]) return undefined;
  const s: IpvsService = {
    family: ap.family,
    protocol,
    address: ap.address,
    port: ap.port,
    fwmark: 0,
    scheduler: t[4],
    flags: 0,
    timeout: 0,
    netmask: ap.family === AF_INET ? 0xffffffff : 128,
    peName: '',
  };
  for (let i = 5; i < t.length; i += 2) {
    const v = t[i + 1];
    if (v === undefined) return undefined;
    switch (t[i]) {
      case '-p':
        s.flags |= IP_VS_SVC_F_PERSISTENT;
        s.timeout = Number(v);
        break;
      case '-M': {
        const mask = ap.family === AF_INET ? dottedToPrefixMask(v) : Number(v);
        if (mask === undefined || Number.isNaN(mask)) return undefined;
        s.netmask = mask;
        break;
      }
      case '-b': {
        const names = v.split(',').filter((n) => n !== '');
        if (!names.every(isSchedulerFlagName)) return undefined;
        s.flags |= schedulerFlagBits(canonicalFlags(names as SchedulerFlagName[]));
        break;
      }
      default:
        return undefined;
    }
  }
  if (!Number.isInteger(s.timeout) || s.timeout < 0) return undefined;
  return s;
}

/**
 * The real server a comment names, with the virtual server's name it belongs to
 * ("-t 10.0.0.1:80"); undefined when it is not such a comment.
 */
export function parseDestinationComment(
  text: string,
): { serviceName: string; destination: IpvsDestination } | undefined {
  const m = /^-a (\S+ \S+) -r (\S+) -m -w (\d+)$/.exec(text);
  if (!m) return undefined;
  const ap = parseAddrPort(m[2] as string);
  if (!ap) return undefined;
  return {
    serviceName: m[1] as string,
    destination: {
      family: ap.family,
      address: ap.address,
      port: ap.port,
      forward: IP_VS_CONN_F_MASQ,
      weight: Number(m[3]),
      upperThreshold: 0,
      lowerThreshold: 0,
      tunType: 0,
      tunPort: 0,
      tunFlags: 0,
      activeConns: 0,
      inactiveConns: 0,
    },
  };
}

/** The virtual server's name inside its comments ("-t 10.0.0.1:80"). */
export function serviceName(s: IpvsService): string {
  return ruleServiceName(s, NUMERIC);
}

/**
 * The virtual server a portal rule's comment names ("-t 10.0.0.1:80"), with the scheduler
 * left "" (its chain's first rule says which).
 */
export function parseServiceName(text: string): IpvsService | undefined {
  const s = parseServiceComment(`-A ${text} -s -`);
  return s && { ...s, scheduler: '' };
}

/** The text of the first `-m comment --comment "…"` of a saved rule; undefined if none. */
export function commentOf(rule: string): string | undefined {
  const m = /-m comment --comment (?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(rule);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}
