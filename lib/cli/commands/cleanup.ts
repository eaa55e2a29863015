// `kube-ipvs cleanup`: removes what kube-ipvs owns (its virtual servers, the dummy
// interface with its addresses, the iptables backend's chains, its masquerade chains and
// ipsets) and nothing else, whichever backend wrote them.
import { IpvsBackend } from '../../backends/ipvs/backend.js';
import { MasqueradeSync } from '../../backends/ipvs/masquerade-sync.js';
import { IptablesBackend } from '../../backends/iptables/backend.js';
import type { CleanupReport } from '../../backends/backend.js';
import { readConfigFlag } from './inputs.js';
import { parseFlags, type Command } from './io.js';

export const cleanupCommand: Command = {
  name: 'cleanup',
  summary: 'remove every virtual server, address, interface, chain and ipset kube-ipvs owns',
  usage:
    'kube-ipvs cleanup [--config FILE]\n' +
    '  --config FILE          kube-ipvs configuration: its interface and excludeCIDRs',
  async run(args, io) {
    const { values } = parseFlags(args, { config: { type: 'string' } });
    const loaded = await readConfigFlag(values.config, io);
    if (!loaded) return 1;
    const config = loaded.config;
    let backend: IpvsBackend | undefined;
    try {
      backend = await IpvsBackend.open({
        interface: config.interface,
        excludeCIDRs: config.excludeCIDRs,
      });
    } catch (e) {
      // No IPVS here: only the iptables backend's chains can be ours.
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
    }
    const iptables = await IptablesBackend.open();
    try {
      const r: CleanupReport = backend
        ? await backend.cleanup()
        : { virtualServers: 0, addresses: 0, other: [] };
      const fallback = await iptables.cleanup();
      r.virtualServers += fallback.virtualServers;
      r.other.push(...fallback.other);
      // After the virtual servers: nothing is NATed any more when the SNAT rules go.
      const sync = new MasqueradeSync({
        options: () => ({ masqueradeAll: config.masqueradeAll, clusterCIDR: config.clusterCIDR }),
      });
      try {
        r.other.push(...(await sync.cleanup()));
      } finally {
        sync.close();
      }
      const other = r.other.length > 0 ? `, ${r.other.join(', ')}` : '';
      const n = (count: number, one: string, many: string) =>
        `${count} ${count === 1 ? one : many}`;
      io.stdout(
        `kube-ipvs cleanup: removed ${n(r.virtualServers, 'virtual server', 'virtual servers')}, ` +
          `${n(r.addresses, 'address', 'addresses')}${other}\n`,
      );
      return 0;
    } finally {
      backend?.close();
      iptables.close();
    }
  },
};
