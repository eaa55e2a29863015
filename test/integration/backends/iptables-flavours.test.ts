// The iptables backend against both flavours of the tools, on the host kernel in network
// namespaces this test creates: the rules it renders are restored with iptables-nft and
// iptables-legacy (IPv4 and IPv6), saved back, and must read back as the same virtual
// servers with nothing taken for drift (the canonical form is exact); and `kube-ipvs run`
// works end to end on a node whose `iptables` is iptables-legacy.
import { expect } from 'chai';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSave } from '../../../bindings/iptables/save.js';
import type { IpvsDestination, IpvsService } from '../../../bindings/ipvs/types.js';
import type { IpvsEntry } from '../../../lib/backends/ipvs/convert.js';
import { readTables } from '../../../lib/backends/iptables/read.js';
import { restoreInput } from '../../../lib/backends/iptables/restore.js';
import { runClient } from '../../harness/client.js';
import { startEcho, stopAllEcho } from '../../harness/echo.js';
import { Netns, deleteAllNetns } from '../../harness/netns.js';
import { buildLab } from '../../harness/topology.js';
import { hostCheck } from '../../harness/scenarios/host.js';
import { expectedSave, service, slice } from '../../harness/scenarios/run.js';
import { iptablesTable } from '../../harness/vs-table.js';
import * as d from '../../harness/daemon.js';

function svc(address: string, protocol: 6 | 17 | 132, scheduler: string, timeout = 0): IpvsService {
  const v6 = address.includes(':');
  return {
    family: v6 ? 10 : 2,
    protocol,
    address,
    port: 80,
    fwmark: 0,
    scheduler,
    flags: timeout > 0 ? 1 : 0,
    timeout,
    netmask: v6 ? 128 : 0xffffffff,
    peName: '',
  };
}

function dest(address: string, weight = 1): IpvsDestination {
  return {
    family: address.includes(':') ? 10 : 2,
    address,
    port: 8080,
    forward: 0,
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunType: 0,
    tunPort: 0,
    tunFlags: 0,
    activeConns: 0,
    inactiveConns: 0,
  };
}

/** One virtual server per mapping and feature, in one family. */
function entries(v6: boolean): IpvsEntry[] {
  const vip = (n: number) => (v6 ? `fd00:96::${n}` : `10.96.0.${n}`);
  const ep = (n: number) => (v6 ? `fd00:a::${n}` : `10.244.0.${n}`);
  const three = [dest(ep(11)), dest(ep(12)), dest(ep(13))];
  return [
    { service: svc(vip(1), 6, 'rr'), destinations: three },
    { service: svc(vip(2), 6, 'wrr'), destinations: [dest(ep(11), 3), dest(ep(12), 1)] },
    { service: svc(vip(3), 17, 'sh', 10800), destinations: three },
    { service: svc(vip(4), 6, 'dh'), destinations: three },
    { service: svc(vip(5), 132, 'lc'), destinations: three },
    { service: svc(vip(6), 6, 'nq', 60), destinations: [dest(ep(11)), dest(ep(12), 0)] },
    { service: svc(vip(7), 17, 'rr'), destinations: [] },
  ];
}

describe('iptables backend with iptables-nft and iptables-legacy (host kernel, netns)', function () {
  this.timeout(120_000);

  before(function () {
    hostCheck();
  });

  after(async function () {
    await stopAllEcho();
    await deleteAllNetns();
  });

  for (const flavour of ['nft', 'legacy'] as const)
    for (const family of [4, 6] as const)
      it(`${flavour}, IPv${family}: every mapping restores, saves in the canonical form and reads back unchanged`, async function () {
        const ns = await Netns.create(`fl-${flavour}${family}`);
        const tool = `${family === 4 ? 'iptables' : 'ip6tables'}-${flavour}`;
        const want = entries(family === 6);
        // The masquerade chain the portals chain starts with (MasqueradeSync writes it).
        await ns.exec(`${tool}-restore`, ['--noflush', '-w'], {
          input: '*nat\n:KUBE-IPVS-SERVICES - [0:0]\nCOMMIT\n',
        });
        const empty = readTables(family, parseSave('', 'nat'), parseSave('', 'filter'));
        const input = restoreInput(
          want.map((e) => ({ before: undefined, after: e })),
          empty.base,
        );
        await ns.exec(`${tool}-restore`, ['--noflush', '-w'], { input });
        const nat = (await ns.exec(`${tool}-save`, ['-t', 'nat'])).stdout;
        const filter = (await ns.exec(`${tool}-save`, ['-t', 'filter'])).stdout;
        const got = readTables(family, parseSave(nat, 'nat'), parseSave(filter, 'filter'));
        expect(got.orphans).to.deep.equal([]);
        expect(got.base.jumps).to.deep.equal([1, 1, 1, 1, 1]);
        expect([...got.services.values()].map((i) => i.entry)).to.deep.equal(want);
        await ns.delete();
      });

  it('kube-ipvs run on a node whose iptables is iptables-legacy: programs legacy tables, plan then finds nothing, rr answers 2/2/2', async function () {
    // A PATH where the default tool names are legacy's (as update-alternatives would set).
    const bin = mkdtempSync(join(tmpdir(), 'kube-ipvs-legacy-bin-'));
    const dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-legacy-'));
    try {
      for (const t of ['iptables', 'ip6tables'])
        for (const suffix of ['', '-save', '-restore'])
          symlinkSync(`/usr/sbin/${t}-legacy${suffix}`, join(bin, `${t}${suffix}`));
      const lab = await buildLab({ backends: 3, pods: 'routed', ipvs: false });
      const addrs = lab.backends.map((b) => b.address);
      for (const b of lab.backends)
        await startEcho(b.ns, { name: b.name, tcpPort: 8080, udpPort: 5353 });
      const config = join(dir, 'config.yaml');
      d.writeConfig(config);
      const m = mkdtempSync(join(dir, 'm-'));
      writeFileSync(join(m, 'service.yaml'), service());
      writeFileSync(join(m, 'slice.yaml'), slice(addrs));
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
      const args = ['--manifests', m, '--node-name', 'node-a', '--config', config];
      const run = (cmd: string[]) =>
        lab.node.exec(process.execPath, [d.kubeIpvsBin, ...cmd, '--backend', 'iptables', ...args], {
          env,
          timeoutMs: 20_000,
        });
      const once = await run(['run', '--once', '--log-format', 'text']);
      expect(once.stderr).to.include('the iptables command is legacy');
      await run(['plan']);
      const legacy = (await lab.node.exec('iptables-legacy-save', ['-t', 'nat'])).stdout;
      expect(legacy).to.include(':KUBE-IPVS-PORTALS');
      const nft = (await lab.node.exec('iptables-nft-save', ['-t', 'nat'])).stdout;
      expect(nft).not.to.include('KUBE-IPVS-');
      // Read through the nft tools the node has nothing; through legacy, exactly the table.
      expect(await iptablesTable(lab.node)).to.equal('');
      expect(await iptablesTable(lab.node, 'legacy')).to.equal(expectedSave(addrs));
      const r = await runClient(lab.client, {
        proto: 'tcp',
        target: '10.96.0.10',
        port: 80,
        count: 6,
      });
      expect(r.byBackend).to.deep.equal({ 'backend-1': 2, 'backend-2': 2, 'backend-3': 2 });
    } finally {
      rmSync(bin, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
