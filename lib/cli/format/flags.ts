// IP_VS_SVC_F_* bits and ipvsadm's print_sched_flags.

export const SVC_F_PERSISTENT = 0x0001;
export const SVC_F_ONEPACKET = 0x0004;
export const SVC_F_SCHED1 = 0x0008;
export const SVC_F_SCHED2 = 0x0010;
export const SVC_F_SCHED3 = 0x0020;
export const SVC_F_SCHED_ANY = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3;

/** Flag names, comma-joined; may be '' (e.g. sh with only flag-3), which ipvsadm still wraps. */
export function schedFlagsText(scheduler: string, flags: number): string {
  const out: string[] = [];
  if (scheduler === 'sh') {
    if (flags & SVC_F_SCHED1) out.push('sh-fallback');
    if (flags & SVC_F_SCHED2) out.push('sh-port');
  } else if (scheduler === 'mh') {
    if (flags & SVC_F_SCHED1) out.push('mh-fallback');
    if (flags & SVC_F_SCHED2) out.push('mh-port');
  } else {
    if (flags & SVC_F_SCHED1) out.push('flag-1');
    if (flags & SVC_F_SCHED2) out.push('flag-2');
    if (flags & SVC_F_SCHED3) out.push('flag-3');
  }
  return out.join(',');
}
