// Backend selection on the host kernel, which has no IPVS (inside network namespaces this
// test creates): `auto` (the default) falls back to the iptables backend with a warning
// that gives the reason, and programs the node; `ipvs` refuses to start with that reason.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClient } from '../../harness/client.js';
import { startEcho, stopAllEcho } from '../../harness/echo.js';
import { deleteAllNetns } from '../../harness/netns.js';
import { buildLab, type Lab } from '../../harness/topology.js';
import { hostCheck } from '../../harness/scenarios/host.js';
import { VIP, expectedSave, service, slice } from '../../harness/scenarios/run.js';
import { iptablesTable } from '../../harness/vs-table.js';
import * as d from '../../harness/daemon.js';

describe('backend auto on a node without IPVS (host kernel, netns)', function () {
  this.timeout(60_000);
  let lab: Lab;
  let dir: string;
  let addrs: string[];
  const args = (): string[] => [
    '--manifests',
    dir,
    '--node-name',
    'node-a',
    '--log-format',
    'json',
  ];

  before(async function () {
    hostCheck();
    lab = await buildLab({ backends: 3, pods: 'routed', ipvs: false });
    addrs = lab.backends.map((b) => b.address);
    for (const b of lab.backends)
      await startEcho(b.ns, { name: b.name, tcpPort: 8080, udpPort: 5353 });
    dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-auto-'));
    writeFileSync(join(dir, 'service.yaml'), service());
    writeFileSync(join(dir, 'slice.yaml'), slice(addrs));
  });

  after(async function () {
    await stopAllEcho();
    await deleteAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--backend ipvs refuses to start and says why', async function () {
    const r = await d.kubeIpvs(lab.node, ['run', '--once', '--backend', 'ipvs', ...args()]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/IPVS cannot be used: the kernel has no IPVS generic netlink family/);
    expect(await iptablesTable(lab.node)).to.equal('');
  });

  it('auto falls back to iptables with a warning giving the reason, and serves the Service', async function () {
    const r = await d.kubeIpvs(lab.node, ['run', '--once', ...args()]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stderr
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { level: number; msg: string; backend?: string });
    const warning = lines.find((l) => l.msg.includes('falling back to the iptables backend'));
    expect(warning?.level, r.stderr).to.equal(40);
    expect(warning?.msg).to.include('the kernel has no IPVS generic netlink family');
    expect(lines.find((l) => l.msg === 'starting')?.backend).to.equal('iptables');
    expect(await iptablesTable(lab.node)).to.equal(expectedSave(addrs));
    const c = await runClient(lab.client, { proto: 'tcp', target: VIP, port: 80, count: 3 });
    expect(c.byBackend).to.deep.equal({ 'backend-1': 1, 'backend-2': 1, 'backend-3': 1 });
  });
});
