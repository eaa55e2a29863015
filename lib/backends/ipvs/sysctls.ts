// The kernel settings an IPVS node needs: IPVS keeps conntrack entries (so iptables
// masquerade rules see IPVS-NATed traffic), connections to a deleted real server are
// expired instead of black-holed, quiescent persistence templates expire, and the node
// forwards. strictARP keeps the node from answering ARP for addresses on the dummy
// interface (MetalLB L2 needs that).
import { ensureSysctl } from '../../../bindings/sysctl.js';

export function ipvsSysctls(strictARP: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['net.ipv4.vs.conntrack', '1'],
    ['net.ipv4.vs.expire_nodest_conn', '1'],
    ['net.ipv4.vs.expire_quiescent_template', '1'],
    ['net.ipv4.ip_forward', '1'],
  ];
  if (strictARP)
    out.push(['net.ipv4.conf.all.arp_ignore', '1'], ['net.ipv4.conf.all.arp_announce', '2']);
  return out;
}

/** Writes the settings that differ; returns the names written. */
export async function applyIpvsSysctls(strictARP: boolean): Promise<string[]> {
  const written: string[] = [];
  for (const [name, value] of ipvsSysctls(strictARP))
    if (await ensureSysctl(name, value)) written.push(name);
  return written;
}
