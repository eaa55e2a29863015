// `kube-ipvs check`: validate a config file and say in one line what it configures.
import { formatDuration } from './duration.js';
import { loadConfig } from './load.js';
import type { KubeIpvsConfig } from './schema.js';

export type CheckResult =
  { ok: true; summary: string; config: KubeIpvsConfig } | { ok: false; errors: string[] };

export function summarizeConfig(c: KubeIpvsConfig): string {
  const flags = c.schedulerFlags.length ? ` -b ${c.schedulerFlags.join(',')}` : '';
  const rules = `${c.services.length} service rule${c.services.length === 1 ? '' : 's'}`;
  const npa = c.nodePortAddresses.length ? c.nodePortAddresses.join(',') : 'all';
  return (
    `backend ${c.backend}, scheduler ${c.scheduler}${flags}, ${rules}, ` +
    `syncPeriod ${formatDuration(c.syncPeriod)}, minSyncPeriod ${formatDuration(c.minSyncPeriod)}, ` +
    `nodePortAddresses ${npa}, interface ${c.interface}`
  );
}

export async function checkConfig(path: string): Promise<CheckResult> {
  const r = await loadConfig(path);
  if (!r.ok) return { ok: false, errors: r.errors.map((e) => e.text) };
  return { ok: true, summary: `${path}: valid; ${summarizeConfig(r.config)}`, config: r.config };
}
