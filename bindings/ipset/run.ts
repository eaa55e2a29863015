// The ipset command through execFile: `ipset restore -exist` with the input on stdin,
// `ipset save` to read sets back, `ipset list -n` for the names.
import { CommandFailed, runCommand } from '../command.js';

export interface IpsetRunner {
  restore(input: string): Promise<void>;
  /** `ipset save` of these sets; a set that does not exist is left out. */
  save(names: readonly string[]): Promise<string>;
  names(): Promise<string[]>;
  /** How many entries each of these sets holds (`ipset list -t`); absent sets are left out. */
  counts(names: readonly string[]): Promise<Map<string, number>>;
}

/** "Number of entries: 12" in `ipset list -t` output. */
export function parseEntryCount(listing: string): number | undefined {
  const m = /^Number of entries: (\d+)$/m.exec(listing);
  return m ? Number(m[1]) : undefined;
}

export function ipsetRunner(timeoutMs = 60_000): IpsetRunner {
  const save1 = async (name: string): Promise<string> => {
    try {
      return (await runCommand('ipset', ['save', name], { timeoutMs })).stdout;
    } catch (e) {
      if (e instanceof CommandFailed && /does not exist/.test(e.stderr)) return '';
      throw e;
    }
  };
  return {
    async restore(input) {
      if (input === '') return;
      await runCommand('ipset', ['restore', '-exist'], { input, timeoutMs });
    },
    async save(names) {
      const parts: string[] = [];
      for (const n of names) parts.push(await save1(n));
      return parts.join('');
    },
    async counts(names) {
      const out = new Map<string, number>();
      for (const n of names) {
        let listing: string;
        try {
          listing = (await runCommand('ipset', ['list', '-t', n], { timeoutMs })).stdout;
        } catch (e) {
          if (e instanceof CommandFailed && /does not exist/.test(e.stderr)) continue;
          throw e;
        }
        const count = parseEntryCount(listing);
        if (count !== undefined) out.set(n, count);
      }
      return out;
    },
    async names() {
      const r = await runCommand('ipset', ['list', '-n'], { timeoutMs });
      return r.stdout.split('\n').filter((l) => l !== '');
    },
  };
}
