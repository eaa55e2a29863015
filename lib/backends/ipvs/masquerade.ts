// The nat table rules that SNAT IPVS-NATed traffic, pure. IPVS NAT rewrites only the
// destination, so a reply from an endpoint goes straight to the client's address unless
// the node masquerades: needed for entry points with externalTrafficPolicy Cluster (the
// endpoint may sit behind another node), for hairpin traffic (a pod sent to itself would
// see its own address as the source and drop the packet), and, by config, for every
// ClusterIP connection (masqueradeAll) or those from outside the pod CIDRs (clusterCIDR).
//
// The number of rules is constant: which entry points need SNAT is held in ipsets that
// the sync keeps in step with the desired table (masquerade-sets.ts). Packets are marked
// before IPVS sees them (nat PREROUTING and OUTPUT still carry the virtual address and
// port, which the sets match with dst,dst) and marked packets are masqueraded in nat
// POSTROUTING, as kube-proxy's IPVS mode does. xt_ipvs cannot tell a Local-policy entry
// point from a Cluster one without a rule per virtual server, so it is not used.
//
// Rules are produced in the canonical form iptables-save prints, so the installed rules
// can be compared with the desired ones and rewritten only when they differ.
import type { SavedTable } from '../../../bindings/iptables/save.js';
import type { IptablesFamily } from '../../../bindings/iptables/run.js';
import { parseCidr } from '../../net/ip.js';

/** kube-proxy's default masquerade bit (iptables.masqueradeBit 14). */
export const MASQ_MARK = '0x4000';

export const CHAINS = {
  services: 'KUBE-IPVS-SERVICES',
  markMasq: 'KUBE-IPVS-MARK-MASQ',
  postrouting: 'KUBE-IPVS-POSTROUTING',
} as const;

export type SetRole = 'external' | 'clusterIP' | 'loopBack';

function names(prefix: string): Record<SetRole, string> {
  return {
    external: `${prefix}EXTERNAL`,
    clusterIP: `${prefix}CLUSTER-IP`,
    loopBack: `${prefix}LOOP-BACK`,
  };
}

/** Built once: the set membership asks for a name per member it counts. */
const SET_NAMES: Record<IptablesFamily, Record<SetRole, string>> = {
  4: names('KUBE-IPVS-'),
  6: names('KUBE-IPVS-6-'),
};

/** The ipset of each role in a family (IPv6 names carry "-6-", as kube-proxy's). */
export function setName(family: IptablesFamily, role: SetRole): string {
  return SET_NAMES[family][role];
}

export const SET_TYPES: Record<SetRole, string> = {
  external: 'hash:ip,port',
  clusterIP: 'hash:ip,port',
  loopBack: 'hash:ip,port,ip',
};

export const SET_ROLES: readonly SetRole[] = ['external', 'clusterIP', 'loopBack'];

export interface MasqueradeOptions {
  masqueradeAll: boolean;
  /** Pod CIDRs; the one of the family in question is used. */
  clusterCIDR: readonly string[];
}

export interface Jump {
  chain: string;
  rule: string;
}

export interface NatRuleset {
  /** Our chains and their rules (after "-A CHAIN "), in order. */
  chains: ReadonlyMap<string, readonly string[]>;
  /** Rules in built-in chains that lead to ours; each must exist exactly once. */
  jumps: readonly Jump[];
}

const comment = (text: string): string => `-m comment --comment "${text}"`;

/** The config's pod CIDR of a family, as iptables-save prints it (network address). */
function podCidr(family: IptablesFamily, cidrs: readonly string[]): string | undefined {
  for (const c of cidrs) {
    const p = parseCidr(c);
    if (p && p.family === (family === 4 ? 'IPv4' : 'IPv6')) return p.text;
  }
  return undefined;
}

export function natRuleset(family: IptablesFamily, o: MasqueradeOptions): NatRuleset {
  const mark = `-j ${CHAINS.markMasq}`;
  const set = (role: SetRole, dirs: string) =>
    `-m set --match-set ${setName(family, role)} ${dirs}`;
  const services = [
    `${comment('entry points with externalTrafficPolicy Cluster')} ${set('external', 'dst,dst')} ${mark}`,
  ];
  const cidr = podCidr(family, o.clusterCIDR);
  if (o.masqueradeAll)
    services.push(
      `${comment('masqueradeAll: every ClusterIP connection')} ${set('clusterIP', 'dst,dst')} ${mark}`,
    );
  else if (cidr !== undefined)
    services.push(
      `! -s ${cidr} ${comment('ClusterIP traffic from outside the pod network')} ${set('clusterIP', 'dst,dst')} ${mark}`,
    );
  else
    // No way to tell pods from the rest: at least the node's own connections, whose
    // source the kernel takes from the ClusterIP itself (a local route), need SNAT.
    services.push(
      `${comment('ClusterIP traffic from a ClusterIP')} ${set('clusterIP', 'src,dst')} ${mark}`,
    );
  const chains = new Map<string, readonly string[]>([
    [CHAINS.services, services],
    [CHAINS.markMasq, [`-j MARK --set-xmark ${MASQ_MARK}/${MASQ_MARK}`]],
    [
      CHAINS.postrouting,
      [
        `${comment('hairpin: a pod sent to itself through a Service')} ${set('loopBack', 'dst,dst,src')} -j MASQUERADE`,
        `-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
        // Cleared so that a packet passing POSTROUTING again (a tunnel) is not SNATed twice.
        `-j MARK --set-xmark ${MASQ_MARK}/0x0`,
        `${comment('kube-ipvs service traffic requiring SNAT')} -j MASQUERADE`,
      ],
    ],
  ]);
  const portals = `${comment('kube-ipvs service portals')} -j ${CHAINS.services}`;
  const jumps: Jump[] = [
    { chain: 'PREROUTING', rule: portals },
    { chain: 'OUTPUT', rule: portals },
    {
      chain: 'POSTROUTING',
      rule: `${comment('kube-ipvs postrouting rules')} -j ${CHAINS.postrouting}`,
    },
  ];
  return { chains, jumps };
}

function count(list: readonly string[] | undefined, rule: string): number {
  return (list ?? []).filter((r) => r === rule).length;
}

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined ? a.length === b.length && a.every((r, i) => r === b[i]) : b.length === 0;
}

/**
 * iptables-restore --noflush input that turns the saved nat table into the desired one,
 * touching only our chains and our jumps; "" when they already match. Declaring a chain
 * flushes it, so our chains are rewritten whole; a jump that is missing or duplicated is
 * removed and inserted first in its built-in chain (ahead of rules that might ACCEPT).
 */
export function natRestore(want: NatRuleset, saved: SavedTable): string {
  const lines: string[] = [];
  const chainsOk = [...want.chains].every(
    ([c, rules]) => saved.chains.has(c) && sameRules(saved.rules.get(c), rules),
  );
  const badJumps = want.jumps.filter((j) => count(saved.rules.get(j.chain), j.rule) !== 1);
  if (chainsOk && badJumps.length === 0) return '';
  for (const c of want.chains.keys()) lines.push(`:${c} - [0:0]`);
  for (const [c, rules] of want.chains) for (const r of rules) lines.push(`-A ${c} ${r}`);
  for (const j of badJumps) {
    for (let i = count(saved.rules.get(j.chain), j.rule); i > 0; i--)
      lines.push(`-D ${j.chain} ${j.rule}`);
    lines.push(`-I ${j.chain} 1 ${j.rule}`);
  }
  return `*nat\n${lines.join('\n')}\nCOMMIT\n`;
}

/** Restore input that removes our jumps and chains from the saved nat table; "" if none. */
export function natCleanup(saved: SavedTable): string {
  const ours = (Object.values(CHAINS) as string[]).filter((c) => saved.chains.has(c));
  const lines: string[] = [];
  for (const [chain, rules] of saved.rules) {
    if (ours.includes(chain)) continue;
    for (const r of rules)
      if (ours.some((c) => r === `-j ${c}` || r.endsWith(` -j ${c}`)))
        lines.push(`-D ${chain} ${r}`);
  }
  // Flush all before deleting any: our chains jump to one another.
  for (const c of ours) lines.push(`-F ${c}`);
  for (const c of ours) lines.push(`-X ${c}`);
  return lines.length === 0 ? '' : `*nat\n${lines.join('\n')}\nCOMMIT\n`;
}
