// `kube-ipvs check` on a kernel with IPVS (UML 6.1, DESIGN §6): every scheduler ipvsadm knows
// is proven by a probe virtual server, the probe leaves nothing behind, and `auto` picks ipvs.
// With --config only the config's schedulers are probed.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEDULERS } from '../../../lib/ipvs/schedulers.js';
import { hideIpvsModules } from '../../harness/hide-ipvs.js';
import { Netns, deleteAllNetns } from '../../harness/netns.js';
import { ipvsadm, kubeIpvs, writeConfig } from '../../harness/daemon.js';

describe('kube-ipvs check on a kernel with IPVS', function () {
  this.timeout(120_000);
  let node: Netns;
  let dir: string;

  before(async () => {
    node = await Netns.create('check');
    dir = mkdtempSync(join(tmpdir(), 'check-'));
  });
  after(async () => {
    await deleteAllNetns();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proves each scheduler with a probe virtual server and leaves the table empty', async () => {
    const r = await kubeIpvs(node, ['check']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^IPVS: generic netlink family "IPVS" present$/m);
    for (const s of SCHEDULERS)
      expect(r.stdout).to.match(new RegExp(`^IPVS scheduler ${s}: ok$`, 'm'));
    expect(r.stdout).to.match(/^backend auto: ipvs$/m);
    expect(await ipvsadm(node, ['-Sn'])).to.equal('');
  });

  it('with --config --node: validates, then probes only the config schedulers', async () => {
    const file = join(dir, 'config.yaml');
    writeConfig(file, 'scheduler: sh\nservices:\n  - match: {namespace: a}\n    scheduler: nq\n');
    const r = await kubeIpvs(node, ['check', '--config', file, '--node']);
    expect(r.code, r.stderr).to.equal(0);
    const probed = [...r.stdout.matchAll(/^IPVS scheduler (\w+): ok$/gm)].map((m) => m[1]);
    expect(probed).to.deep.equal(['sh', 'nq']);
    expect(r.stdout.split('\n')[0]).to.match(/: valid; backend auto, scheduler sh/);
  });

  it('with the IPVS modules unloaded and hidden: the family is missing, auto falls back; back after', async () => {
    const restore = await hideIpvsModules();
    try {
      const r = await kubeIpvs(node, ['check']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(
        /^IPVS: unavailable: the kernel has no IPVS generic netlink family \(modprobe ip_vs: /m,
      );
      expect(r.stdout).to.match(/^backend auto: iptables /m);
    } finally {
      await restore();
    }
    const again = await kubeIpvs(node, ['check', '--node', '--config', join(dir, 'config.yaml')]);
    expect(again.stdout).to.match(/^backend auto: ipvs$/m);
  });
});
