// The ipset command through execFile: `ipset restore -exist` with the input on stdin,
// `ipset save` to read sets back, `ipset list -n` for the names.
import { CommandFailed, runCommand } from '../command.js';

export interface IpsetRunner {
  restore(input: string): Promise<void>;
  /** `ipset save` of these sets; a set that does not exist is left out. */
  save(names: readonly string[]): Promise<string>;
  names(): Promise<string[]>;
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
    async names() {
      const r = await runCommand('ipset', ['list', '-n'], { timeoutMs });
      return r.stdout.split('\n').filter((l) => l !== '');
    },
  };
}
