// IPVS scheduler names and scheduler flags as ipvsadm spells them. The config schema and
// the per-Service annotation are validated against these lists; it sits below both config
// and model so that neither imports the other for them.
import {
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
} from '../../bindings/ipvs/constants.js';

/** The schedulers ipvsadm 1.31 knows (its SCHEDULERS list). */
export const SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];

/**
 * Names accepted for `-b` in ipvsadm: the generic flag-N, and the sh/mh aliases that are only
 * meaningful (and only accepted) with their scheduler.
 */
export const SCHEDULER_FLAG_NAMES = [
  'flag-1',
  'flag-2',
  'flag-3',
  'sh-fallback',
  'sh-port',
  'mh-fallback',
  'mh-port',
] as const;
export type SchedulerFlagName = (typeof SCHEDULER_FLAG_NAMES)[number];

/** Canonical flag: IP_VS_SVC_F_SCHED1 (0x08), SCHED2 (0x10), SCHED3 (0x20). */
export type SchedulerFlag = 'flag-1' | 'flag-2' | 'flag-3';

const ALIAS: Record<SchedulerFlagName, { flag: SchedulerFlag; only?: SchedulerName }> = {
  'flag-1': { flag: 'flag-1' },
  'flag-2': { flag: 'flag-2' },
  'flag-3': { flag: 'flag-3' },
  'sh-fallback': { flag: 'flag-1', only: 'sh' },
  'sh-port': { flag: 'flag-2', only: 'sh' },
  'mh-fallback': { flag: 'flag-1', only: 'mh' },
  'mh-port': { flag: 'flag-2', only: 'mh' },
};

export function isSchedulerName(s: unknown): s is SchedulerName {
  return typeof s === 'string' && (SCHEDULERS as readonly string[]).includes(s);
}

export function isSchedulerFlagName(s: unknown): s is SchedulerFlagName {
  return typeof s === 'string' && (SCHEDULER_FLAG_NAMES as readonly string[]).includes(s);
}

/** Why `name` cannot be used with `scheduler`, or undefined when it can. */
export function flagProblem(scheduler: SchedulerName, name: SchedulerFlagName): string | undefined {
  const only = ALIAS[name].only;
  if (only && only !== scheduler) return `"${name}" applies only to the ${only} scheduler`;
  return undefined;
}

/** Canonical, sorted, de-duplicated flags. Callers validate with flagProblem first. */
export function canonicalFlags(names: readonly SchedulerFlagName[]): SchedulerFlag[] {
  return [...new Set(names.map((n) => ALIAS[n].flag))].sort();
}

const BITS: Record<SchedulerFlag, number> = {
  'flag-1': IP_VS_SVC_F_SCHED1,
  'flag-2': IP_VS_SVC_F_SCHED2,
  'flag-3': IP_VS_SVC_F_SCHED3,
};

/** The IP_VS_SVC_F_SCHED* bits for the kernel's service flags word. */
export function schedulerFlagBits(flags: readonly SchedulerFlag[]): number {
  return flags.reduce((bits, f) => bits | BITS[f], 0);
}

/** Names as ipvsadm prints them (`print_sched_flags`): sh-/mh- aliases for sh and mh. */
export function displayFlags(scheduler: string, flags: readonly SchedulerFlag[]): string[] {
  const names: Record<string, Partial<Record<SchedulerFlag, string>>> = {
    sh: { 'flag-1': 'sh-fallback', 'flag-2': 'sh-port' },
    mh: { 'flag-1': 'mh-fallback', 'flag-2': 'mh-port' },
  };
  return flags.map((f) => names[scheduler]?.[f] ?? f);
}
