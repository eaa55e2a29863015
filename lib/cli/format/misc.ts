// Small fixed outputs: --timeout, --daemon, -v.

import type { IpvsDaemon, IpvsTimeouts } from '../../../bindings/ipvs/types.js';
import { i32, u32 } from './printf.js';

export const IPVSADM_VERSION_LINE =
  'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n';

export function formatTimeout(t: IpvsTimeouts): string {
  return `Timeout (tcp tcpfin udp): ${i32(t.tcp)} ${i32(t.tcpFin)} ${i32(t.udp)}\n`;
}

const STATE_MASTER = 1;
const STATE_BACKUP = 2;

/** list_daemon: the first two daemons the kernel reports, master/backup by state bit. */
export function formatDaemons(daemons: readonly IpvsDaemon[]): string {
  let out = '';
  for (const d of daemons.slice(0, 2)) {
    let type: string;
    if (d.state & STATE_MASTER) type = 'master';
    else if (d.state & STATE_BACKUP) type = 'backup';
    else continue;
    out += `${type} sync daemon (mcast=${d.mcastIfn}, syncid=${i32(d.syncId)}`;
    if (d.syncMaxLen) out += `, maxlen=${u32(d.syncMaxLen)}`;
    if (d.mcastGroup) out += `, group=${d.mcastGroup}`;
    if (d.mcastPort) out += `, port=${u32(d.mcastPort)}`;
    if (d.mcastTtl) out += `, ttl=${u32(d.mcastTtl)}`;
    out += ')\n';
  }
  return out;
}
