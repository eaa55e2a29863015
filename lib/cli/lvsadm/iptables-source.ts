// lvsadm's snapshot on a node without IPVS that kube-ipvs serves with its iptables
// backend: `iptables-save -c` (ip6tables-save for IPv6) of the nat and filter tables, in
// the flavour (nft or legacy) that holds the backend's chains, turned into the same
// virtual servers the IPVS backend would program (lib/backends/iptables/listing.ts).
// Undefined when no flavour of either family holds them: the node is not such a node.
import { readFile } from 'node:fs/promises';
import {
  iptablesRunner,
  parseSave,
  type IptablesFamily,
  type IptablesFlavour,
  type IptablesRunner,
} from '../../../bindings/iptables/index.js';
import type { IpvsInfo, IpvsTimeouts } from '../../../bindings/ipvs/types.js';
import type { IpvsEntry } from '../../backends/ipvs/convert.js';
import { listedEntries } from '../../backends/iptables/listing.js';
import { CHAINS } from '../../backends/iptables/rules.js';
import { readConnFile, type SnapshotSource } from './source.js';

/**
 * The header's IPVS version and connection table size: those of every kernel's IPVS
 * (IP_VS_VERSION_CODE 1.2.1, CONFIG_IP_VS_TAB_BITS 12), so the listing reads as the
 * IPVS backend's would.
 */
export const FALLBACK_INFO: IpvsInfo = { version: 0x010201, connTableSize: 4096 };

/** The conntrack timeouts the fallback's connections live by, in --timeout's order. */
export const CONNTRACK_TIMEOUTS = {
  tcp: 'nf_conntrack_tcp_timeout_established',
  tcpFin: 'nf_conntrack_tcp_timeout_fin_wait',
  udp: 'nf_conntrack_udp_timeout',
} as const;

export interface IptablesSourceOptions {
  runner?: (family: IptablesFamily, flavour: IptablesFlavour) => IptablesRunner;
  /** Reads one /proc/sys/net/netfilter file's text. */
  sysctl?: (name: string) => Promise<string>;
}

async function conntrackTimeouts(read: (name: string) => Promise<string>): Promise<IpvsTimeouts> {
  const one = async (name: string): Promise<number> => {
    const n = Number((await read(name).catch(() => '')).trim());
    return Number.isInteger(n) && n >= 0 ? n : 0;
  };
  return {
    tcp: await one(CONNTRACK_TIMEOUTS.tcp),
    tcpFin: await one(CONNTRACK_TIMEOUTS.tcpFin),
    udp: await one(CONNTRACK_TIMEOUTS.udp),
  };
}

/** One family's entries from the first flavour holding our chains; undefined if none does. */
async function familyEntries(
  family: IptablesFamily,
  runner: (family: IptablesFamily, flavour: IptablesFlavour) => IptablesRunner,
): Promise<IpvsEntry[] | undefined> {
  for (const flavour of ['default', 'legacy'] as const) {
    const r = runner(family, flavour);
    // No such binary, or no nat table in that flavour: nothing of ours there.
    const natText = await r.save('nat', { counters: true }).catch(() => undefined);
    if (natText === undefined) continue;
    const nat = parseSave(natText, 'nat');
    if (!nat.chains.has(CHAINS.portals)) continue;
    const filter = parseSave(await r.save('filter', { counters: true }), 'filter');
    return listedEntries(family, nat, filter);
  }
  return undefined;
}

export async function iptablesSource(
  options: IptablesSourceOptions = {},
): Promise<SnapshotSource | undefined> {
  const runner = options.runner ?? ((f, fl) => iptablesRunner(f, fl));
  const v4 = await familyEntries(4, runner);
  const v6 = await familyEntries(6, runner);
  if (v4 === undefined && v6 === undefined) return undefined;
  const services = [...(v4 ?? []), ...(v6 ?? [])];
  const read =
    options.sysctl ?? ((name: string) => readFile(`/proc/sys/net/netfilter/${name}`, 'utf8'));
  const timeouts = await conntrackTimeouts(read);
  return {
    snapshot: () => Promise.resolve({ info: FALLBACK_INFO, services, timeouts, daemons: [] }),
    // No IPVS connection table here: ipvsadm's own message for a missing one.
    connections: () => readConnFile(),
    close: () => Promise.resolve(),
  };
}
