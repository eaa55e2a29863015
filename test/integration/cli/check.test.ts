// `kube-ipvs check` on this host's kernel, which has no IPVS (DESIGN §6): the report says so
// with modprobe's reason, names the iptables tools and ipset, and `auto` picks the
// fallback. Run inside a namespace the test creates, as every probe writes nothing outside it.
import { expect } from 'chai';
import { Netns, deleteAllNetns, sweepStaleNetns } from '../../harness/netns.js';
import { kubeIpvs } from '../../harness/daemon.js';

describe('kube-ipvs check on a node without IPVS (host kernel)', function () {
  this.timeout(60_000);
  let node: Netns;

  before(async () => {
    await sweepStaleNetns();
    node = await Netns.create('check');
  });
  after(async () => {
    await deleteAllNetns();
  });

  it('reports the missing IPVS family, the iptables flavour and ipset; auto falls back', async () => {
    const r = await kubeIpvs(node, ['check']);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).to.match(/^IPVS: unavailable: the kernel has no IPVS generic netlink family/);
    expect(r.stdout).to.match(/^iptables: iptables v\d+\.\d+\.\d+ \((nf_tables|legacy)\)$/m);
    expect(r.stdout).to.match(/^ip6tables: ip6tables v\d+\.\d+\.\d+ \((nf_tables|legacy)\)$/m);
    expect(r.stdout).to.match(/^ipset: ipset v\d+\.\d+/m);
    expect(r.stdout).not.to.contain('IPVS scheduler');
    expect(r.stdout).to.match(
      /^backend auto: iptables \(.*\); schedulers lc, wlc, lblc, lblcr, sed, nq, fo, ovf, mh only approximated by iptables rules$/m,
    );
  });
});
