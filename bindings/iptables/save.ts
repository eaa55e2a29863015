// iptables-save output of one table, parsed: the chains it declares and each chain's
// rules in order, as the text after "-A CHAIN " (the canonical form the tools print).
// With `iptables-save -c` every rule line starts with its counters, "[packets:bytes]";
// they are kept beside the rules.
export interface RuleCounters {
  readonly packets: bigint;
  readonly bytes: bigint;
}

export interface SavedTable {
  readonly chains: ReadonlySet<string>;
  /** Rules by chain, in order; a chain with no rules may be absent. */
  readonly rules: ReadonlyMap<string, readonly string[]>;
  /** With `-c` output: each rule's counters, index for index with `rules`. */
  readonly counters?: ReadonlyMap<string, readonly RuleCounters[]>;
}

/** Parses the named table out of iptables-save output; an absent table is empty. */
export function parseSave(text: string, table: string): SavedTable {
  const chains = new Set<string>();
  const rules = new Map<string, string[]>();
  const counters = new Map<string, RuleCounters[]>();
  let inTable = false;
  for (const raw of text.split('\n')) {
    let line = raw.trimEnd();
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
    const c = /^\[(\d+):(\d+)\] /.exec(line);
    if (c) line = line.slice(c[0].length);
    const m = /^-A (\S+)(?: (.*))?$/.exec(line);
    if (!m || m[1] === undefined) continue;
    let list = rules.get(m[1]);
    if (!list) {
      list = [];
      rules.set(m[1], list);
    }
    list.push(m[2] ?? '');
    if (c) {
      let cs = counters.get(m[1]);
      if (!cs) {
        cs = [];
        counters.set(m[1], cs);
      }
      // Index for index with the rules: a chain's lines either all carry counters or none.
      cs[list.length - 1] = { packets: BigInt(c[1] as string), bytes: BigInt(c[2] as string) };
    }
  }
  return counters.size > 0 ? { chains, rules, counters } : { chains, rules };
}
