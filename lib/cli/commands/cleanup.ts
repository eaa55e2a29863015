// `kube-ipvs cleanup`: removes what kube-ipvs owns (its virtual servers, the dummy
// interface with its addresses, its masquerade chains and ipsets) and nothing else.
import { IpvsBackend } from '../../backends/ipvs/backend.js';
import { MasqueradeSync } from '../../backends/ipvs/masquerade-sync.js';
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
    let backend: IpvsBackend;
    try {
      backend = await IpvsBackend.open({
        interface: config.interface,
        excludeCIDRs: config.excludeCIDRs,
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') {
        io.stdout('kube-ipvs cleanup: the kernel has no IPVS; nothing to remove\n');
        return 0;
      }
      throw e;
    }
    try {
      const r = await backend.cleanup();
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
      backend.close();
    }
  },
};
