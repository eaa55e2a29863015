// Makes the UML kernel a node without IPVS, for the fallback tests: every IPVS module is
// unloaded (the generic netlink family goes with ip_vs) and the module directory is
// covered by an empty one, so modprobe finds nothing. The returned function undoes the
// cover; the modules load again on the next modprobe. Inside UML only: it refuses to run
// on the host, whose modules are not ours to touch.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';
import { inUml } from './in-uml.js';

function loadedIpvsModules(): string[] {
  return readFileSync('/proc/modules', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((m) => m === 'ip_vs' || m.startsWith('ip_vs_') || m === 'xt_ipvs');
}

export async function hideIpvsModules(): Promise<() => Promise<void>> {
  if (!inUml()) throw new Error('hideIpvsModules runs inside UML only');
  // Dependants first: schedulers and xt_ipvs hold ip_vs.
  const loaded = loadedIpvsModules();
  for (const m of [...loaded.filter((m) => m !== 'ip_vs'), ...loaded.filter((m) => m === 'ip_vs')])
    await run('rmmod', [m]);
  const left = loadedIpvsModules();
  if (left.length) throw new Error(`IPVS modules still loaded: ${left.join(', ')}`);
  const release = (await run('uname', ['-r'])).stdout.trim();
  const dir = `/lib/modules/${release}/kernel/net/netfilter/ipvs`;
  const empty = mkdtempSync(join(tmpdir(), 'no-ipvs-'));
  await run('mount', ['--bind', empty, dir]);
  return async () => {
    await run('umount', [dir]);
    rmSync(empty, { recursive: true, force: true });
  };
}
