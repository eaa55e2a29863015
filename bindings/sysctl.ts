// Kernel parameters through /proc/sys: read, and written only when they differ, so a
// restart touches nothing that is already right.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** "net.ipv4.vs.conntrack" → "/proc/sys/net/ipv4/vs/conntrack". */
export function sysctlPath(name: string, root = '/proc/sys'): string {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(name)) {
    throw new RangeError(`not a sysctl name: ${JSON.stringify(name)}`);
  }
  return join(root, ...name.split('.'));
}

export async function readSysctl(name: string, root?: string): Promise<string> {
  return (await readFile(sysctlPath(name, root), 'utf8')).trim();
}

/** Sets a value if it differs; returns whether it wrote. */
export async function ensureSysctl(name: string, value: string, root?: string): Promise<boolean> {
  if ((await readSysctl(name, root)) === value) return false;
  await writeFile(sysctlPath(name, root), `${value}\n`);
  return true;
}
