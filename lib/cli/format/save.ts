// `ipvsadm -S` (FMT_RULE): one -A line per service, one -a line per destination.

import {
  AF_INET,
  AF_INET6,
  type IpvsDestination,
  type IpvsService,
} from '../../../bindings/ipvs/types.js';
import { dottedMask } from './inet.js';
import { addrPortName, type NameOptions } from './names.js';
import { schedFlagsText, SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED_ANY } from './flags.js';

export { sortEntries as sortSaveEntries } from './sort.js';

export interface ServiceEntry {
  service: IpvsService;
  destinations: readonly IpvsDestination[];
}

/** The service as ipvsadm's rules name it: `-t 10.0.0.1:80`, `-u [fd00::1]:53`, `-f 7`. */
export function ruleServiceName(
  s: Pick<IpvsService, 'family' | 'protocol' | 'address' | 'port' | 'fwmark'>,
  opts: NameOptions,
): string {
  if (s.fwmark) return s.family === AF_INET6 ? `-f ${s.fwmark | 0} -6` : `-f ${s.fwmark | 0}`;
  const stype =
    s.protocol === 6
      ? '-t'
      : s.protocol === 17
        ? '-u'
        : s.protocol === 132
          ? '--sctp-service'
          : '--xxx-service';
  return `${stype} ${addrPortName(s.family, s.address, s.port, s.protocol, opts)}`;
}

/** fwd_switch(); glibc prints "(null)" for the NULL it returns on BYPASS. */
export function fwdSwitch(forward: number): string {
  switch (forward & 7) {
    case 0:
      return '-m';
    case 2:
      return '-i';
    case 1:
    case 3:
      return '-g';
    default:
      return '(null)';
  }
}

const TUN_NAMES = ['ipip', 'gue', 'gre'];
const TUN_FLAG_OPTS = ['--tun-nocsum', '--tun-csum', '--tun-remcsum'];

function tunFlagOpt(flags: number): string {
  // ipvsadm indexes an array with the raw flags; combinations it never sets read past it.
  return TUN_FLAG_OPTS[flags] ?? '(null)';
}

/** One `-a` rule for a real server of the service named `svcName`. */
export function destRule(svcName: string, dname: string, d: IpvsDestination): string {
  const base = `-a ${svcName} -r ${dname} ${fwdSwitch(d.forward)} -w ${d.weight | 0}`;
  if ((d.forward & 7) !== 2) return `${base}\n`;
  switch (d.tunType) {
    case 2:
      return `${base} --tun-type ${TUN_NAMES[2]} ${tunFlagOpt(d.tunFlags)}\n`;
    case 1:
      return `${base} --tun-type ${TUN_NAMES[1]} --tun-port ${d.tunPort} ${tunFlagOpt(d.tunFlags)}\n`;
    case 0:
      return `${base} --tun-type ${TUN_NAMES[0]}\n`;
    default:
      return `${base}\n`;
  }
}

/** One service and its destinations in rule form, destinations in the order given. */
export function formatSaveEntry(entry: ServiceEntry, opts: NameOptions): string {
  const s = entry.service;
  const svcName = ruleServiceName(s, opts);
  let out = `-A ${svcName} -s ${s.scheduler}`;
  if (s.flags & SVC_F_PERSISTENT) {
    out += ` -p ${s.timeout >>> 0}`;
    if (s.family === AF_INET && s.netmask >>> 0 !== 0xffffffff) {
      out += ` -M ${dottedMask(s.netmask)}`;
    }
    if (s.family === AF_INET6 && s.netmask !== 128) out += ` -M ${s.netmask | 0}`;
  }
  if (s.peName) out += ` --pe ${s.peName}`;
  if (s.flags & SVC_F_ONEPACKET) out += ' -o';
  if (s.flags & SVC_F_SCHED_ANY) out += ` -b ${schedFlagsText(s.scheduler, s.flags)}`;
  out += '\n';
  for (const d of entry.destinations) {
    // Rule output never truncates names.
    const dname = addrPortName(d.family, d.address, d.port, s.protocol, opts);
    out += destRule(svcName, dname, d);
  }
  return out;
}

/** `ipvsadm -S [-n]` body for the entries in the order given (sort first with sortSaveEntries). */
export function formatSave(entries: ReadonlyArray<ServiceEntry>, options: NameOptions): string {
  let out = '';
  for (const e of entries) out += formatSaveEntry(e, options);
  return out;
}
