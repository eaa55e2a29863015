// What lvsadm lists on a node the iptables backend serves: the virtual servers and real
// servers read back from the saved tables by read.ts (the comment contract), with the
// counters iptables really keeps. Pure.
//
// nat rules see only the first packet of each connection (later ones follow conntrack),
// so a rule's packet counter counts connections, and nothing else is known:
//   virtual server Conns  packets of its entry rule in KUBE-IPVS-PORTALS: every new
//                         connection to it since that rule was written (its Service's
//                         life; one refused while it had no endpoint counts too)
//   real server Conns     packets of the DNAT rules to it in its virtual server's
//                         KUBE-IPVS-SVC- chain (scheduler and affinity rules): the new
//                         connections sent to it since that chain was last written (any
//                         change to the Service's endpoints rewrites it)
//   packets, bytes, rates, active and inactive connections: 0 (no counter holds them)
import type { SavedTable } from '../../../bindings/iptables/save.js';
import type { IptablesFamily } from '../../../bindings/iptables/run.js';
import { AF_INET, ZERO_STATS, type IpvsStats } from '../../../bindings/ipvs/types.js';
import type { IpvsEntry } from '../ipvs/convert.js';
import { DRIFT, readTables } from './read.js';
import { CHAINS } from './rules.js';

/** Counters holding only a connection count. */
export function connectionStats(conns: bigint): IpvsStats {
  return { ...ZERO_STATS, conns };
}

/** Packets of the chain's DNAT rules by their `--to-destination` text (0 without counters). */
function dnatPackets(nat: SavedTable, chain: string | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  if (chain === undefined) return out;
  const counters = nat.counters?.get(chain) ?? [];
  (nat.rules.get(chain) ?? []).forEach((r, i) => {
    const to = / -j DNAT --to-destination (\S+)/.exec(` ${r}`)?.[1];
    if (to !== undefined) out.set(to, (out.get(to) ?? 0n) + (counters[i]?.packets ?? 0n));
  });
  return out;
}

/**
 * The virtual servers of one family as the IPVS backend would show them, with connection
 * counts, from `iptables-save -c` of the nat and filter tables (without -c: counts of 0).
 */
export function listedEntries(
  family: IptablesFamily,
  nat: SavedTable,
  filter: SavedTable,
): IpvsEntry[] {
  const out: IpvsEntry[] = [];
  // Packets per portal rule text (a duplicate's added), read once: the chain holds a rule
  // per virtual server, so a scan per virtual server would be quadratic.
  const portalPackets = new Map<string, bigint>();
  const portalCounters = nat.counters?.get(CHAINS.portals) ?? [];
  (nat.rules.get(CHAINS.portals) ?? []).forEach((r, i) =>
    portalPackets.set(r, (portalPackets.get(r) ?? 0n) + (portalCounters[i]?.packets ?? 0n)),
  );
  for (const installed of readTables(family, nat, filter).services.values()) {
    const { service, destinations } = installed.entry;
    let conns = 0n;
    for (const r of new Set(installed.portals)) conns += portalPackets.get(r) ?? 0n;
    const toDestination = dnatPackets(nat, installed.chains[0]);
    out.push({
      service: {
        ...service,
        // The drift mark is the reconcile loop's, never a persistence engine.
        peName: service.peName === DRIFT ? '' : service.peName,
        stats: connectionStats(conns),
      },
      destinations: destinations.map((d) => ({
        ...d,
        stats: connectionStats(
          toDestination.get(
            d.family === AF_INET ? `${d.address}:${d.port}` : `[${d.address}]:${d.port}`,
          ) ?? 0n,
        ),
      })),
    });
  }
  return out;
}
