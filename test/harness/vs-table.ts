// The node's virtual servers in `ipvsadm -Sn` syntax, whichever backend holds them: IPVS
// through ipvsadm, the iptables backend through its chains read back by the comment
// contract (iptables-save and ip6tables-save inside the namespace). Tests compare tables
// in one syntax for both.
import { parseSave } from '../../bindings/iptables/save.js';
import { readTables } from '../../lib/backends/iptables/read.js';
import { sortIpvsEntries, type IpvsEntry } from '../../lib/backends/ipvs/convert.js';
import { formatSave } from '../../lib/cli/format/save.js';
import type { Netns } from './netns.js';

export type BackendName = 'ipvs' | 'iptables';

/** Through the default tools (`iptables-save`), or iptables-legacy's. */
export async function iptablesTable(
  ns: Netns,
  flavour: 'default' | 'legacy' = 'default',
): Promise<string> {
  const entries: IpvsEntry[] = [];
  const suffix = flavour === 'legacy' ? '-legacy-save' : '-save';
  for (const [family, tool] of [
    [4, `iptables${suffix}`],
    [6, `ip6tables${suffix}`],
  ] as const) {
    const nat = (await ns.exec(tool, ['-t', 'nat'])).stdout;
    const filter = (await ns.exec(tool, ['-t', 'filter'])).stdout;
    const r = readTables(family, parseSave(nat, 'nat'), parseSave(filter, 'filter'));
    for (const i of r.services.values()) entries.push(i.entry);
  }
  return formatSave(sortIpvsEntries(entries), { numeric: true });
}

export async function vsTable(backend: BackendName, ns: Netns): Promise<string> {
  if (backend === 'iptables') return iptablesTable(ns);
  return (await ns.exec('ipvsadm', ['-Sn'])).stdout;
}
