// One IPVS-shaped virtual server (service + real servers) → the iptables rules that give
// the same Service behaviour: an entry rule in KUBE-IPVS-PORTALS (nat) matching its
// address, protocol and port, a KUBE-IPVS-SVC- chain that picks a real server the way its
// scheduler would and DNATs to it (one rule per choice), and, while no real server can be
// picked, a REJECT rule in KUBE-IPVS-REJECT (filter: REJECT is not allowed in nat). Pure.
//
// Rules are produced in the canonical form iptables-save prints, so what is installed can
// be compared with what is wanted and drift found (read.ts).
//
// Schedulers (README "Fallback: the iptables backend"):
//   rr, wrr        statistic --mode nth cascade: an exact rotation over the new connections
//                  (wrr: each real server takes `weight` turns).
//   sh, dh, mh     HMARK hash of the source (sh, mh) or destination (dh) address into the
//                  packet mark, then one rule per bucket (a real server has `weight` buckets):
//                  one client (sh) or one destination (dh) always reaches the same one.
//   others         statistic --mode random, probability proportional to weight: lc, wlc,
//                  sed, nq, lblc, lblcr, fo, ovf are approximated (iptables cannot count
//                  connections per real server).
// ClientIP affinity (persistence): one `recent` list per real server, checked (and its
// timer restarted) before the scheduler, set by the rule that picked it, with the
// persistence timeout and netmask.
import { createHash } from 'node:crypto';
import { AF_INET, type IpvsDestination, type IpvsService } from '../../../bindings/ipvs/types.js';
import { IP_VS_SVC_F_PERSISTENT } from '../../../bindings/ipvs/constants.js';
import type { IpvsEntry } from '../ipvs/convert.js';
import { MASQ_MARK, CHAINS as MASQ_CHAINS } from '../ipvs/masquerade.js';
import type { IptablesFamily } from '../../../bindings/iptables/run.js';
import { destinationComment, serviceComment, serviceName } from './comment.js';

export const CHAINS = {
  /** nat: one entry rule per virtual server, jumped to from PREROUTING and OUTPUT. */
  portals: 'KUBE-IPVS-PORTALS',
  /** filter: REJECT for virtual servers with no real server to pick. */
  reject: 'KUBE-IPVS-REJECT',
} as const;

export const SVC_PREFIX = 'KUBE-IPVS-SVC-';
/**
 * Names each real server's affinity list. No chain has it: a chain per real server made
 * iptables-nft-restore 1.8.9 superlinear (10 000 Services × 10 did not finish in 300 s;
 * with DNAT in the service chain, 9 s), so the service chain DNATs itself.
 */
export const SEP_PREFIX = 'KUBE-IPVS-SEP-';

/** Bits of the packet mark the hash buckets use: below kube-proxy's masquerade bit. */
export const BUCKET_MASK = 0x3fff;
/** A fixed hash seed, so a restart keeps every client on its real server. */
export const HMARK_RND = '0x4b495056';

export type Mapping = 'nth' | 'hash-src' | 'hash-dst' | 'random';

/** How each IPVS scheduler is done here; `exact` false where it is only approximated. */
export function schedulerMapping(scheduler: string): { mapping: Mapping; exact: boolean } {
  switch (scheduler) {
    case 'rr':
    case 'wrr':
      return { mapping: 'nth', exact: true };
    case 'sh':
      return { mapping: 'hash-src', exact: true };
    case 'dh':
      return { mapping: 'hash-dst', exact: true };
    case 'mh':
      // Maglev hashes the source too; what it adds (little reshuffling) is not kept.
      return { mapping: 'hash-src', exact: false };
    default:
      return { mapping: 'random', exact: false };
  }
}

export function familyOf(s: Pick<IpvsService, 'family'>): IptablesFamily {
  return s.family === AF_INET ? 4 : 6;
}

const PROTOCOL_NAME: Readonly<Record<number, string>> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

function protoName(s: IpvsService): string {
  const p = PROTOCOL_NAME[s.protocol];
  if (!p) throw new Error(`protocol ${s.protocol} has no iptables mapping`);
  return p;
}

function hash14(text: string): string {
  // base32 (RFC 4648 alphabet) of SHA-256, as kube-proxy names its chains; 14 characters
  // keep the names within iptables' 28.
  const bytes = createHash('sha256').update(text).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 14) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 14) break;
  }
  return out;
}

/** The virtual server's chain: named by its identity (protocol, address, port). */
export function svcChain(s: IpvsService): string {
  return SVC_PREFIX + hash14(serviceName(s));
}

/** A real server's `recent` list (ClientIP affinity): named by both servers. */
export function affinityList(s: IpvsService, d: Pick<IpvsDestination, 'address' | 'port'>): string {
  const at = s.family === AF_INET ? `${d.address}:${d.port}` : `[${d.address}]:${d.port}`;
  return SEP_PREFIX + hash14(`${serviceName(s)} -r ${at}`);
}

const comment = (text: string): string => `-m comment --comment "${text}"`;

function hostCidr(s: IpvsService, address: string): string {
  return s.family === AF_INET ? `${address}/32` : `${address}/128`;
}

function dottedMask(mask: number): string {
  return [24, 16, 8, 0].map((sh) => (mask >>> sh) & 255).join('.');
}

/** The netmask `recent` keeps client addresses under (the persistence granularity). */
function recentMask(s: IpvsService): string {
  if (s.family === AF_INET) return dottedMask(s.netmask >>> 0);
  const prefix = Math.max(0, Math.min(128, s.netmask));
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) {
    const bits = Math.max(0, Math.min(16, prefix - g * 16));
    groups.push((bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff).toString(16));
  }
  return groups.join(':');
}

/** --probability as iptables-save prints it: the kernel keeps p·2³¹ as an integer. */
export function probabilityText(p: number): string {
  return (Math.round(p * 0x80000000) / 0x80000000).toFixed(11);
}

export interface ServiceRules {
  readonly family: IptablesFamily;
  /** The rule in KUBE-IPVS-PORTALS (after "-A KUBE-IPVS-PORTALS "). */
  readonly entry: string;
  /** The rule in KUBE-IPVS-REJECT while no real server can be picked. */
  readonly reject: string | undefined;
  /** Our chains and their rules: the KUBE-IPVS-SVC- chain. */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  /** The scheduler is only approximated (see schedulerMapping). */
  readonly approximated: boolean;
}

/** The entry rule: the virtual server's address, protocol and port, into its chain. */
export function entryRule(s: IpvsService): string {
  const p = protoName(s);
  return `-d ${hostCidr(s, s.address)} -p ${p} -m ${p} --dport ${s.port} ${comment(serviceName(s))} -j ${svcChain(s)}`;
}

export function rejectRule(s: IpvsService): string {
  const p = protoName(s);
  const icmp = s.family === AF_INET ? 'icmp-port-unreachable' : 'icmp6-port-unreachable';
  return `-d ${hostCidr(s, s.address)} -p ${p} -m ${p} --dport ${s.port} ${comment(serviceComment(s))} -j REJECT --reject-with ${icmp}`;
}

/** Turns over the real servers: each appears `weight` times (rr: once, weight aside). */
function slots(scheduler: string, dests: readonly IpvsDestination[]): IpvsDestination[] {
  const weighted = scheduler !== 'rr';
  return dests.flatMap((d) => Array.from({ length: weighted ? d.weight : 1 }, () => d));
}

/** How a rule sends a connection to a real server: DNAT, remembering the client for affinity. */
interface Target {
  proto: string;
  /** The recent list of each real server (ClientIP affinity); undefined without. */
  affinity: ((d: IpvsDestination) => string) | undefined;
}

function dnat(s: IpvsService, t: Target, d: IpvsDestination, match: string): string {
  const to = s.family === AF_INET ? `${d.address}:${d.port}` : `[${d.address}]:${d.port}`;
  const remember =
    t.affinity === undefined
      ? ''
      : ` -m recent --set --name ${t.affinity(d)} --mask ${recentMask(s)} --rsource`;
  // iptables-save prints -p first, whatever the order given.
  return `-p ${t.proto} ${comment(destinationComment(s, d))}${match}${remember} -j DNAT --to-destination ${to}`;
}

function selectRules(
  s: IpvsService,
  picks: readonly IpvsDestination[],
  mapping: Mapping,
  t: Target,
): string[] {
  const out: string[] = [];
  const turns = slots(s.scheduler, picks);
  if (mapping === 'nth') {
    turns.forEach((d, i) => {
      const left = turns.length - i;
      out.push(
        dnat(s, t, d, left > 1 ? ` -m statistic --mode nth --every ${left} --packet 0` : ''),
      );
    });
  } else if (mapping === 'random') {
    let left = picks.reduce((n, d) => n + d.weight, 0);
    for (const d of picks) {
      const p = d.weight / left;
      left -= d.weight;
      out.push(
        dnat(
          s,
          t,
          d,
          left > 0 ? ` -m statistic --mode random --probability ${probabilityText(p)}` : '',
        ),
      );
    }
  } else {
    const buckets = turns.slice(0, BUCKET_MASK);
    const prefix = s.family === AF_INET ? 32 : 128;
    const side = mapping === 'hash-src' ? 'src' : 'dst';
    // HMARK replaces the whole mark: the masquerade bit, if set, is put back with the hash.
    const hmark = (offset: string) =>
      `-j HMARK --hmark-${side}-prefix ${prefix} --hmark-rnd ${HMARK_RND} --hmark-mod ${buckets.length} --hmark-offset ${offset}`;
    out.push(`-m mark --mark ${MASQ_MARK}/${MASQ_MARK} ${hmark(String(Number(MASQ_MARK)))}`);
    out.push(`-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} ${hmark('0')}`);
    buckets.forEach((d, i) => {
      out.push(dnat(s, t, d, ` -m mark --mark 0x${i.toString(16)}/0x${BUCKET_MASK.toString(16)}`));
    });
  }
  return out;
}

/** Everything one virtual server needs. */
export function serviceRules(e: IpvsEntry): ServiceRules {
  const s = e.service;
  const { mapping, exact } = schedulerMapping(s.scheduler);
  const persistent = (s.flags & IP_VS_SVC_F_PERSISTENT) !== 0;
  const t: Target = {
    proto: protoName(s),
    affinity: persistent ? (d) => affinityList(s, d) : undefined,
  };
  const picks = e.destinations.filter((d) => d.weight > 0);
  const idle = e.destinations.filter((d) => d.weight <= 0);
  const svc: string[] = [comment(serviceComment(s))];
  // A real server at weight 0 takes no new connection; its rule never matches and only
  // records it (and its weight) for reading back.
  for (const d of idle)
    svc.push(
      dnat(
        s,
        { ...t, affinity: undefined },
        d,
        ` -m statistic --mode random --probability ${probabilityText(0)}`,
      ),
    );
  // Affinity first: a client seen within the timeout goes back to its real server, and
  // --update restarts its timer, as an IPVS persistence template's is on each connection.
  if (persistent)
    for (const d of picks)
      svc.push(
        `-p ${t.proto} -m recent --update --seconds ${s.timeout} --reap --name ${affinityList(s, d)} --mask ${recentMask(s)} --rsource -j DNAT --to-destination ${s.family === AF_INET ? `${d.address}:${d.port}` : `[${d.address}]:${d.port}`}`,
      );
  if (picks.length > 0) svc.push(...selectRules(s, picks, mapping, t));
  return {
    family: familyOf(s),
    entry: entryRule(s),
    reject: picks.length === 0 ? rejectRule(s) : undefined,
    chains: new Map<string, readonly string[]>([[svcChain(s), svc]]),
    approximated: !exact,
  };
}

export interface Jump {
  readonly table: 'nat' | 'filter';
  readonly chain: string;
  readonly rule: string;
}

/** The first rule of KUBE-IPVS-PORTALS: the masquerade marks, while the address is the virtual one. */
export const PORTALS_HEAD = `-j ${MASQ_CHAINS.services}`;

/** Rules in built-in chains that lead to ours; each must exist exactly once. */
export const JUMPS: readonly Jump[] = [
  ...['PREROUTING', 'OUTPUT'].map((chain) => ({
    table: 'nat' as const,
    chain,
    rule: `${comment('kube-ipvs virtual servers (iptables backend)')} -j ${CHAINS.portals}`,
  })),
  ...['INPUT', 'FORWARD', 'OUTPUT'].map((chain) => ({
    table: 'filter' as const,
    chain,
    rule: `${comment('kube-ipvs virtual servers without endpoints')} -m conntrack --ctstate NEW -j ${CHAINS.reject}`,
  })),
];
