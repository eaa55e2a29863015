// What the kernel and the file system tell about iptables without running it: the legacy
// tables this network namespace has, and which flavour a command on PATH is. A question
// answered from a file costs a read; the same question asked of iptables-save costs a
// fork from the daemon's heap (20-40 ms under User-Mode Linux) and the process itself.
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join } from 'node:path';
import type { IptablesFamily } from './run.js';

/** The kernel's list of the legacy (x_tables) tables instantiated in this namespace. */
export function legacyTablesFile(family: IptablesFamily): string {
  return family === 4 ? '/proc/net/ip_tables_names' : '/proc/net/ip6_tables_names';
}

/**
 * The legacy tables this network namespace has: none when the file is absent (no
 * ip_tables module, so no legacy table anywhere); undefined when it cannot be read. A
 * table appears once something (a rule, a chain, iptables-legacy-save of it) instantiated
 * it here.
 */
export function legacyTables(
  family: IptablesFamily,
  file = legacyTablesFile(family),
): Set<string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return (e as { code?: string }).code === 'ENOENT' ? new Set() : undefined;
  }
  return new Set(text.split('\n').filter((l) => l !== ''));
}

/** The file execFile would run for a bare command name: the first executable on PATH. */
export function resolveCommand(name: string, path = process.env.PATH ?? ''): string | undefined {
  if (isAbsolute(name)) return name;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The flavour of an iptables command by the multi-call binary it resolves to (Debian's
 * alternatives and iptables' own install make each tool name a link to one of the two);
 * undefined when that says nothing (absent, or a binary of another name).
 */
export function commandFlavour(name: string, path?: string): 'nft' | 'legacy' | undefined {
  const file = resolveCommand(name, path);
  if (file === undefined) return undefined;
  let real: string;
  try {
    real = basename(realpathSync(file));
  } catch {
    return undefined;
  }
  if (real === 'xtables-nft-multi') return 'nft';
  if (real === 'xtables-legacy-multi') return 'legacy';
  return undefined;
}
