// lvsadm on a node the iptables backend serves (the host kernel: no IPVS), inside network
// namespaces this test creates: `kube-ipvs run --once --backend iptables` programs a set
// of Services (rr TCP and UDP, sh with ClientIP affinity, lc, one without endpoints,
// IPv6), and lvsadm lists the same table `kube-ipvs render` gives for them (what the IPVS
// backend would program), in ipvsadm's formats, with connection counts after real
// connections and 0 where iptables cannot know (packets, bytes, rates, active/inactive).
//
// KUBE_IPVS_CAPTURE_IPTABLES=DIR writes the node's `iptables-save -c` and
// `ip6tables-save -c`, and render's output, there: the fixtures of
// test/unit/backends/iptables/listing.test.ts were made so.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runClient } from '../../harness/client.js';
import { startEcho, stopAllEcho } from '../../harness/echo.js';
import { CommandError } from '../../harness/exec.js';
import { deleteAllNetns } from '../../harness/netns.js';
import { hostCheck } from '../../harness/scenarios/host.js';
import { serviceYaml, sliceYaml } from '../../harness/scenarios/service.js';
import { buildLab, type Lab } from '../../harness/topology.js';
import * as d from '../../harness/daemon.js';

const lvsadmBin = join(dirname(fileURLToPath(import.meta.url)), '../../../../bin/lvsadm.js');

const WEB = '10.96.0.10';
const STICKY = '10.96.0.11';
const LC = '10.96.0.12';
const EMPTY = '10.96.0.13';
const WEB6 = 'fd00:96::10';

/** The address column of a listing: ipvsadm pads it to 28 characters after "  -> ". */
const col = (text: string, width: number): string => text.padEnd(width);

describe('lvsadm on a node served by the iptables backend (host kernel, netns)', function () {
  this.timeout(120_000);
  let lab: Lab;
  let dir: string;
  let addr: string[];
  let addr6: string[];
  let rendered: string;

  const lvsadm = async (args: string[]): Promise<d.CommandOutcome> => {
    try {
      const r = await lab.node.exec(process.execPath, [lvsadmBin, ...args], { timeoutMs: 20_000 });
      return { code: 0, ...r };
    } catch (e) {
      if (e instanceof CommandError && e.exitCode !== null)
        return { code: e.exitCode, stdout: e.stdout, stderr: e.stderr };
      throw e;
    }
  };
  const ok = async (args: string[]): Promise<string> => {
    const r = await lvsadm(args);
    expect(r.code, `lvsadm ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    expect(r.stderr).to.equal('');
    return r.stdout;
  };

  before(async function () {
    hostCheck();
    lab = await buildLab({ pods: 'routed', ipvs: false, backends: 3 });
    addr = lab.backends.map((b) => b.address);
    addr6 = lab.backends.map((b) => b.address6 ?? '');
    for (const b of lab.backends)
      await startEcho(b.ns, { name: b.name, host: '::', tcpPort: 8080, udpPort: 5353 });
    dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-lvsadm-'));
    const files: Record<string, string> = {
      'web.yaml': serviceYaml({ name: 'web', vip: WEB, udp: true }),
      'web-slice.yaml': sliceYaml('web', addr, true),
      'sticky.yaml': serviceYaml({
        name: 'sticky',
        vip: STICKY,
        scheduler: 'sh',
        affinitySeconds: 600,
      }),
      'sticky-slice.yaml': sliceYaml('sticky', addr.slice(0, 2)),
      'lc.yaml': serviceYaml({ name: 'lc', vip: LC, scheduler: 'lc' }),
      'lc-slice.yaml': sliceYaml('lc', addr),
      'empty.yaml': serviceYaml({ name: 'empty', vip: EMPTY }),
      'empty-slice.yaml': sliceYaml('empty', []),
      'web6.yaml': serviceYaml({ name: 'web6', vip: WEB6 }),
      'web6-slice.yaml': sliceYaml('web6', addr6),
    };
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    const args = ['--manifests', dir, '--node-name', 'node-a'];
    const render = await d.kubeIpvs(lab.node, ['render', ...args]);
    expect(render.code, render.stderr).to.equal(0);
    rendered = render.stdout;
    const run = await d.kubeIpvs(lab.node, ['run', '--once', '--backend', 'iptables', ...args]);
    expect(run.code, run.stderr).to.equal(0);
  });

  after(async function () {
    await stopAllEcho();
    await deleteAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('-Sn prints what render gives for those Services (what the IPVS backend would program)', async function () {
    expect(rendered.split('\n').filter((l) => l.startsWith('-A '))).to.have.length(6);
    expect(await ok(['-Sn'])).to.equal(rendered);
    expect(await ok(['--save', '-n'])).to.equal(rendered);
  });

  it('-Ln lists every virtual server with its scheduler, persistence and real servers', async function () {
    const dest = (a: string, port = 8080): string =>
      `  -> ${col(a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`, 28)} Masq    1      0          0         \n`;
    const want =
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port Scheduler Flags\n' +
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
      `TCP  ${WEB}:80 rr\n${addr.map((a) => dest(a)).join('')}` +
      `TCP  ${STICKY}:80 sh persistent 600\n${addr
        .slice(0, 2)
        .map((a) => dest(a))
        .join('')}` +
      `TCP  ${LC}:80 lc\n${addr.map((a) => dest(a)).join('')}` +
      `TCP  ${EMPTY}:80 rr\n` +
      `UDP  ${WEB}:53 rr\n${addr.map((a) => dest(a, 5353)).join('')}` +
      `TCP  [${WEB6}]:80 rr\n${addr6.map((a) => dest(a)).join('')}`;
    expect(await ok(['-Ln'])).to.equal(want);
    // -t / -u: that one virtual server, under the title, without the header.
    expect(await ok(['-Ln', '-t', `${WEB}:80`])).to.equal(
      'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        `TCP  ${WEB}:80 rr\n${addr.map((a) => dest(a)).join('')}`,
    );
    const missing = await lvsadm(['-Ln', '-u', `${WEB}:80`]);
    expect([missing.code, missing.stderr]).to.deep.equal([1, 'No such service\n']);
  });

  it("--stats: Conns from the rules' packet counters after real connections; packets and bytes 0", async function () {
    const tcp = await runClient(lab.client, { proto: 'tcp', target: WEB, port: 80, count: 6 });
    const udp = await runClient(lab.client, { proto: 'udp', target: WEB, port: 53, count: 3 });
    const sticky = await runClient(lab.client, {
      proto: 'tcp',
      target: STICKY,
      port: 80,
      count: 4,
    });
    const v6 = await runClient(lab.client, { proto: 'tcp', target: WEB6, port: 80, count: 3 });
    // Refused (no endpoint): counted on the virtual server, as README says.
    const refused = await runClient(lab.client, {
      proto: 'tcp',
      target: EMPTY,
      port: 80,
      count: 2,
    });
    if (process.env.KUBE_IPVS_CAPTURE_IPTABLES) {
      const out = process.env.KUBE_IPVS_CAPTURE_IPTABLES;
      mkdirSync(out, { recursive: true });
      writeFileSync(
        join(out, 'iptables.save'),
        (await lab.node.exec('iptables-save', ['-c'])).stdout,
      );
      writeFileSync(
        join(out, 'ip6tables.save'),
        (await lab.node.exec('ip6tables-save', ['-c'])).stdout,
      );
      writeFileSync(join(out, 'render.txt'), rendered);
    }

    expect(tcp.byBackend).to.deep.equal({ 'backend-1': 2, 'backend-2': 2, 'backend-3': 2 });
    expect(udp.answered).to.equal(3);
    expect(Object.values(sticky.byBackend)).to.deep.equal([4]);
    expect(v6.errors).to.deep.equal({});
    expect(Object.keys(v6.byBackend)).to.have.length(3);
    expect(refused.byBackend).to.deep.equal({});
    const n = (v: number): string => ` ${String(v).padStart(8)}`;
    const line = (name: string, conns: number): string =>
      `${col(name, 33)}${n(conns)}${n(0)}${n(0)}${n(0)}${n(0)}\n`;
    const stickyDest = Object.keys(sticky.byBackend)[0];
    const stats = await ok(['-Ln', '--stats']);
    expect(stats).to.equal(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
        '  -> RemoteAddress:Port\n' +
        line(`TCP  ${WEB}:80`, 6) +
        addr.map((a) => line(`  -> ${a}:8080`, 2)).join('') +
        line(`TCP  ${STICKY}:80`, 4) +
        addr
          .slice(0, 2)
          .map((a, i) => line(`  -> ${a}:8080`, `backend-${i + 1}` === stickyDest ? 4 : 0))
          .join('') +
        line(`TCP  ${LC}:80`, 0) +
        addr.map((a) => line(`  -> ${a}:8080`, 0)).join('') +
        line(`TCP  ${EMPTY}:80`, 2) +
        line(`UDP  ${WEB}:53`, 3) +
        addr.map((a) => line(`  -> ${a}:5353`, 1)).join('') +
        line(`TCP  [${WEB6}]:80`, 3) +
        addr6.map((a) => line(`  -> [${a}]:8080`, 1)).join(''),
    );
    // --rate: iptables keeps no rate estimator.
    const rate = (await ok(['-Ln', '--rate', '-t', `${WEB}:80`])).split('\n').slice(2, -1);
    expect(rate).to.have.length(4);
    for (const l of rate)
      expect(l.trim().split(/\s+/).slice(-5)).to.deep.equal(['0', '0', '0', '0', '0']);
    // ActiveConn / InActConn: unknown to iptables, 0 even with connections just made.
    expect(await ok(['-Ln', '-u', `${WEB}:53`])).to.match(
      /-> 10\.244\.0\.11:5353 +Masq +1 +0 +0 +\n/,
    );
  });

  it("with neither IPVS nor the backend's chains, lvsadm says what ipvsadm says", async function () {
    const r = await d.kubeIpvs(lab.node, ['cleanup']);
    expect(r.code, r.stderr).to.equal(0);
    const after = await lvsadm(['-Ln']);
    expect(after.code).to.equal(2);
    expect(after.stdout).to.equal('');
    expect(after.stderr).to.match(
      /Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module\?\n$/,
    );
  });
});
