// The iptables-restore --noflush input of one sync for one family: only the chains of the
// virtual servers that changed are declared (which flushes them) and rewritten; their rule
// in KUBE-IPVS-PORTALS and KUBE-IPVS-REJECT is deleted or appended alone, so the size of
// the input follows the change, not the table. Pure.
import type { IpvsEntry } from '../ipvs/convert.js';
import { baseOk, type Base, type Installed } from './read.js';
import { CHAINS, JUMPS, PORTALS_HEAD, serviceRules } from './rules.js';

export interface Change {
  /** What is installed now (undefined: nothing). */
  readonly before: Installed | undefined;
  /** What is wanted (undefined: remove it). */
  readonly after: IpvsEntry | undefined;
}

/** What is installed once `entry` has been written. */
export function installedOf(entry: IpvsEntry): Installed {
  const r = serviceRules(entry);
  return {
    entry,
    portals: [r.entry],
    rejects: r.reject === undefined ? [] : [r.reject],
    chains: [...r.chains.keys()],
  };
}

const count = (list: readonly string[], rule: string): number =>
  list.filter((r) => r === rule).length;

interface Tables {
  natDeclare: string[];
  nat: string[];
  natTail: string[];
  filterDeclare: string[];
  filter: string[];
}

/** Lines that create the chains and jumps every virtual server relies on, where missing. */
function baseLines(base: Base, t: Tables): void {
  if (!base.portals) {
    t.natDeclare.push(`:${CHAINS.portals} - [0:0]`);
    t.nat.push(`-A ${CHAINS.portals} ${PORTALS_HEAD}`);
  } else if (!base.headFirst || base.heads !== 1) {
    for (let i = 0; i < base.heads; i++) t.nat.push(`-D ${CHAINS.portals} ${PORTALS_HEAD}`);
    t.nat.push(`-I ${CHAINS.portals} 1 ${PORTALS_HEAD}`);
  }
  if (!base.reject) t.filterDeclare.push(`:${CHAINS.reject} - [0:0]`);
  JUMPS.forEach((j, i) => {
    const n = base.jumps[i] ?? 0;
    if (n === 1) return;
    const out = j.table === 'nat' ? t.nat : t.filter;
    for (let k = 0; k < n; k++) out.push(`-D ${j.chain} ${j.rule}`);
    // First: ahead of rules that might ACCEPT before ours are reached.
    out.push(`-I ${j.chain} 1 ${j.rule}`);
  });
}

/**
 * The restore input for these changes; "" when there is nothing to write. `base` is what
 * was last seen of the family's chains and jumps (undefined: known to be right), `orphans`
 * our chains no virtual server uses (removed here).
 */
export function restoreInput(
  changes: readonly Change[],
  base: Base | undefined,
  orphans: readonly string[] = [],
): string {
  const t: Tables = { natDeclare: [], nat: [], natTail: [], filterDeclare: [], filter: [] };
  if (base !== undefined && !baseOk(base) && changes.some((c) => c.after !== undefined))
    baseLines(base, t);
  const drop = new Set<string>(orphans);
  const keep = new Set<string>();
  for (const { before, after } of changes) {
    const want = after && serviceRules(after);
    const portals = before?.portals ?? [];
    const rejects = before?.rejects ?? [];
    // The portal rule: kept when it is there exactly once and right, else replaced.
    const portalOk = want !== undefined && portals.length === 1 && portals[0] === want.entry;
    if (!portalOk) {
      for (const r of new Set(portals))
        for (let i = count(portals, r); i > 0; i--) t.nat.push(`-D ${CHAINS.portals} ${r}`);
      if (want) t.natTail.push(`-A ${CHAINS.portals} ${want.entry}`);
    }
    const wantReject = want?.reject;
    const rejectOk =
      wantReject === undefined
        ? rejects.length === 0
        : rejects.length === 1 && rejects[0] === wantReject;
    if (!rejectOk) {
      for (const r of new Set(rejects))
        for (let i = count(rejects, r); i > 0; i--) t.filter.push(`-D ${CHAINS.reject} ${r}`);
      if (wantReject !== undefined) t.filter.push(`-A ${CHAINS.reject} ${wantReject}`);
    }
    if (want)
      for (const [c, rules] of want.chains) {
        keep.add(c);
        t.natDeclare.push(`:${c} - [0:0]`);
        for (const r of rules) t.nat.push(`-A ${c} ${r}`);
      }
    for (const c of before?.chains ?? []) drop.add(c);
  }
  const gone = [...drop].filter((c) => !keep.has(c));
  // Flushed before any is deleted: a virtual server's chain jumps to its real servers'.
  for (const c of gone) t.natTail.push(`-F ${c}`);
  for (const c of gone) t.natTail.push(`-X ${c}`);
  let out = '';
  const nat = [...t.natDeclare, ...t.nat, ...t.natTail];
  if (nat.length > 0) out += `*nat\n${nat.join('\n')}\nCOMMIT\n`;
  const filter = [...t.filterDeclare, ...t.filter];
  if (filter.length > 0) out += `*filter\n${filter.join('\n')}\nCOMMIT\n`;
  return out;
}

/** Restore input that removes all of ours (given the saved tables' chains and rules). */
export function cleanupInput(
  nat: { chains: ReadonlySet<string>; rules: ReadonlyMap<string, readonly string[]> },
  filter: { chains: ReadonlySet<string>; rules: ReadonlyMap<string, readonly string[]> },
  isOurs: (chain: string) => boolean,
): string {
  let out = '';
  for (const [name, table] of [
    ['nat', nat],
    ['filter', filter],
  ] as const) {
    const mine = [...table.chains].filter(isOurs);
    if (mine.length === 0) continue;
    const lines: string[] = [];
    for (const [chain, rules] of table.rules) {
      if (mine.includes(chain)) continue;
      for (const r of rules)
        if (mine.some((c) => r === `-j ${c}` || r.endsWith(` -j ${c}`)))
          lines.push(`-D ${chain} ${r}`);
    }
    for (const c of mine) lines.push(`-F ${c}`);
    for (const c of mine) lines.push(`-X ${c}`);
    out += `*${name}\n${lines.join('\n')}\nCOMMIT\n`;
  }
  return out;
}
