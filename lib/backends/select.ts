// Which data plane this node gets. IPVS needs the ip_vs modules (or built-ins), the
// "IPVS" generic netlink family, and each scheduler in use: a probe virtual server is
// created and deleted with each, as kube-proxy does, because a module that loads is no
// proof that the scheduler works. Where IPVS cannot serve, `auto` falls back to the
// iptables backend (iptables/backend.ts) and says why; `ipvs` refuses to start with the
// same reason.
import { IpvsClient } from '../../bindings/ipvs/client.js';
import { modprobe, schedulerModule } from '../../bindings/modules.js';
import type { Backend } from './backend.js';
import { IpvsBackend, type IpvsBackendOptions } from './ipvs/backend.js';
import { IptablesBackend } from './iptables/backend.js';

export type BackendChoice = 'auto' | 'ipvs' | 'iptables';

export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

/** A documentation address (TEST-NET-2) no Service uses; kube-proxy probes the same way. */
const PROBE = { address: '198.51.100.0', port: 20000 };

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface SchedulerProbe {
  scheduler: string;
  ok: boolean;
  reason?: string;
}

export interface IpvsProbe {
  /** Why the IPVS generic netlink family cannot be used; undefined when it can. */
  familyProblem?: string;
  /** One per scheduler asked for, in order; empty when the family is missing or `probe` is off. */
  schedulers: SchedulerProbe[];
}

/**
 * What IPVS offers here for these schedulers. With `probe`, each scheduler is proven by
 * creating and deleting a probe virtual server; without, only the family is resolved and
 * the kernel is left untouched.
 */
export async function probeIpvs(schedulers: readonly string[], probe = true): Promise<IpvsProbe> {
  const base = await modprobe('ip_vs');
  let client: IpvsClient;
  try {
    client = await IpvsClient.open();
  } catch (e) {
    const why = base.ok ? '' : ` (modprobe ip_vs: ${base.reason})`;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT')
      return {
        familyProblem: `the kernel has no IPVS generic netlink family${why}`,
        schedulers: [],
      };
    return { familyProblem: `opening the IPVS netlink family: ${reason(e)}${why}`, schedulers: [] };
  }
  const results: SchedulerProbe[] = [];
  try {
    if (!probe) return { schedulers: results };
    for (const scheduler of schedulers) results.push(await probeScheduler(client, scheduler));
    return { schedulers: results };
  } finally {
    client.close();
  }
}

async function probeScheduler(client: IpvsClient, scheduler: string): Promise<SchedulerProbe> {
  const mod = await modprobe(schedulerModule(scheduler));
  const service = {
    family: 2 as const,
    protocol: 6 as const,
    ...PROBE,
    fwmark: 0,
    scheduler,
    flags: 0,
    timeout: 0,
    netmask: 0xffffffff,
    peName: '',
  };
  try {
    await client.addService(service);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EEXIST') {
      const why = mod.ok ? '' : ` (modprobe ${mod.module}: ${mod.reason})`;
      return { scheduler, ok: false, reason: `${reason(e)}${why}` };
    }
  }
  try {
    await client.deleteService(service);
  } catch (e) {
    return { scheduler, ok: false, reason: `deleting the probe virtual server: ${reason(e)}` };
  }
  return { scheduler, ok: true };
}

/** The first reason IPVS cannot serve a probe's schedulers; undefined when it can. */
export function ipvsProbeProblem(p: IpvsProbe): string | undefined {
  if (p.familyProblem !== undefined) return p.familyProblem;
  const bad = p.schedulers.find((s) => !s.ok);
  return bad && `IPVS refused a virtual server with scheduler ${bad.scheduler}: ${bad.reason}`;
}

/** Why IPVS cannot serve these schedulers here; undefined when it can. */
export async function ipvsProblem(
  schedulers: readonly string[],
  probe = true,
): Promise<string | undefined> {
  return ipvsProbeProblem(await probeIpvs(schedulers, probe));
}

/**
 * The backend for this node. `probe: false` (plan) only checks that the IPVS family is
 * there and changes nothing in the kernel.
 */
export async function selectBackend(
  choice: BackendChoice,
  schedulers: readonly string[],
  options: IpvsBackendOptions & {
    info?: (message: string) => void;
    /** Told why, when `auto` falls back to iptables (an Event on the Node). */
    fellBack?: (reason: string) => void;
  },
  probe = true,
): Promise<Backend> {
  const openIptables = () =>
    IptablesBackend.open({
      ...(options.warn ? { warn: options.warn } : {}),
      ...(options.info ? { info: options.info } : {}),
    });
  if (choice === 'iptables') return openIptables();
  const problem = await ipvsProblem(schedulers, probe);
  if (problem === undefined) {
    const ipvs = await IpvsBackend.open(options);
    // A node that ran the fallback before (IPVS appeared since) keeps its service chains
    // until something removes them; they would answer before IPVS does. plan changes nothing.
    if (probe) await removeIptablesBackend(options.info);
    return ipvs;
  }
  if (choice === 'ipvs') throw new BackendUnavailableError(`IPVS cannot be used: ${problem}`);
  options.warn?.(`IPVS cannot be used: ${problem}; falling back to the iptables backend`);
  options.fellBack?.(problem);
  return openIptables();
}

async function removeIptablesBackend(info: ((message: string) => void) | undefined): Promise<void> {
  const iptables = IptablesBackend.forCleanup();
  try {
    const removed = await iptables.cleanup();
    if (removed.other.length > 0)
      info?.(
        `removed the iptables backend's ${removed.other.join(', ')} (${removed.virtualServers} virtual servers) left from an earlier fallback`,
      );
  } finally {
    iptables.close();
  }
}
