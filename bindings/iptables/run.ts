// iptables-restore and iptables-save (ip6tables-* for IPv6) through execFile. Restore
// always runs with --noflush (only the chains named in the input are touched) and -w
// (wait for the xtables lock instead of failing next to kubelet or a CNI plugin).
//
// Two flavours: the system's default binaries (iptables-nft on current distributions)
// and iptables-legacy. A kernel without nftables NAT (no nft_chain_nat) refuses the nft
// flavour's nat table; the legacy one then still works, so the caller may switch.
import { runCommand } from '../command.js';
import { toolVersion } from '../version.js';

export type IptablesFamily = 4 | 6;
export type IptablesFlavour = 'default' | 'legacy';

/** The tool family's name: iptables, ip6tables-legacy, … */
export function iptablesName(family: IptablesFamily, flavour: IptablesFlavour): string {
  const base = family === 4 ? 'iptables' : 'ip6tables';
  return flavour === 'legacy' ? `${base}-legacy` : base;
}

export function iptablesBinary(
  family: IptablesFamily,
  flavour: IptablesFlavour,
  tool: 'restore' | 'save',
): string {
  return `${iptablesName(family, flavour)}-${tool}`;
}

export interface IptablesRunner {
  restore(input: string): Promise<void>;
  /**
   * iptables-save of one table, or of every table the kernel has (no -t: one process instead
   * of one per table, and no table module is loaded to answer); `counters`: with each
   * rule's packet and byte counters (-c).
   */
  save(table?: string, options?: { counters?: boolean }): Promise<string>;
}

export function iptablesRunner(
  family: IptablesFamily,
  flavour: IptablesFlavour,
  timeoutMs = 60_000,
): IptablesRunner {
  return {
    async restore(input) {
      await runCommand(iptablesBinary(family, flavour, 'restore'), ['--noflush', '-w'], {
        input,
        timeoutMs,
      });
    },
    async save(table, options = {}) {
      const args = [...(options.counters ? ['-c'] : []), ...(table ? ['-t', table] : [])];
      const r = await runCommand(iptablesBinary(family, flavour, 'save'), args, { timeoutMs });
      return r.stdout;
    },
  };
}

/** What the `iptables` command is here: nft (iptables-nft) or legacy; undefined if absent. */
export async function iptablesVariant(): Promise<'nft' | 'legacy' | undefined> {
  const v = await toolVersion('iptables', ['--version']);
  if (!v.ok) return undefined;
  if (v.line.includes('nf_tables')) return 'nft';
  if (v.line.includes('legacy')) return 'legacy';
  return undefined;
}
