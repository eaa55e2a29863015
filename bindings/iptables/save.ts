// iptables-save output of one table, parsed: the chains it declares and each chain's
// rules in order, as the text after "-A CHAIN " (the canonical form the tools print).
export interface SavedTable {
  readonly chains: ReadonlySet<string>;
  /** Rules by chain, in order; a chain with no rules may be absent. */
  readonly rules: ReadonlyMap<string, readonly string[]>;
}

/** Parses the named table out of iptables-save output; an absent table is empty. */
export function parseSave(text: string, table: string): SavedTable {
  const chains = new Set<string>();
  const rules = new Map<string, string[]>();
  let inTable = false;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('*')) {
      inTable = line.slice(1) === table;
      continue;
    }
    if (!inTable || line === '' || line.startsWith('#')) continue;
    if (line === 'COMMIT') {
      inTable = false;
      continue;
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0];
      if (name) chains.add(name);
      continue;
    }
    const m = /^-A (\S+)(?: (.*))?$/.exec(line);
    if (!m || m[1] === undefined) continue;
    let list = rules.get(m[1]);
    if (!list) {
      list = [];
      rules.set(m[1], list);
    }
    list.push(m[2] ?? '');
  }
  return { chains, rules };
}
