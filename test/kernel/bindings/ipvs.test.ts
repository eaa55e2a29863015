// The IPVS bindings against the UML kernel, each test in its own network namespace,
// cross-checked against what ipvsadm reads from the same kernel.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertInUml } from '../../harness/in-uml.js';
import { run } from '../../harness/exec.js';
import { Netns, deleteAllNetns } from '../../harness/netns.js';
import type { IpvsDestination, IpvsService } from '../../../bindings/ipvs/types.js';
import { CANONICAL, TABLE, ipvsadmBlocks, renderBlocks, type Entry } from './fixture.js';
import { must } from './must.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'ipvs-child.js');

interface Dumped {
  service: IpvsService;
  destinations: IpvsDestination[];
}

async function nodeNs(label: string): Promise<Netns> {
  const ns = await Netns.create(label);
  // Real servers must be routable in the namespace (docs/architecture.md: EINVAL otherwise).
  await ns.addDummy('d0');
  await ns.addAddress('d0', '10.1.0.1/16');
  await ns.addAddress('d0', 'fd00:1::1/64');
  await ns.addRoute('default', { dev: 'd0' });
  return ns;
}

async function scenario<T>(ns: Netns, name: string): Promise<T> {
  const { stdout } = await ns.node(child, [name], { timeoutMs: 60_000 });
  return JSON.parse(stdout) as T;
}

async function ipvsadm(ns: Netns, args: string[]): Promise<string> {
  return (await ns.exec('ipvsadm', args)).stdout;
}

/** Drops the counters the kernel adds, so a dump compares with what was programmed. */
function programmed(entries: Dumped[]): Entry[] {
  const strip = <T extends object>(o: T, keys: string[]): T =>
    Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k))) as T;
  return entries
    .map((e) => ({
      service: strip(e.service, ['stats']),
      destinations: e.destinations
        .map((d) => strip(d, ['stats', 'activeConns', 'inactiveConns', 'persistConns']))
        .sort((a, b) => a.address.localeCompare(b.address)),
    }))
    .sort((a, b) => key(a.service).localeCompare(key(b.service)));
}

function key(s: IpvsService): string {
  return `${s.fwmark}/${s.family}/${s.protocol}/${s.address}/${s.port}`;
}

function canonical(entries: Entry[]): Entry[] {
  return programmed(
    entries.map((e) => ({
      service: e.service,
      destinations: e.destinations.map((d) => ({
        ...d,
        address: CANONICAL[d.address] ?? d.address,
      })),
    })),
  );
}

describe('IPVS bindings in the kernel (R1.2, R2.1)', function () {
  this.timeout(120_000);

  before(async () => {
    assertInUml();
    // IPv6 is a module in Debian 12's UML and built in in newer ones; the test
    // namespaces need IPv6 addresses before the first IPVS call.
    if (!existsSync('/proc/sys/net/ipv6')) await run('modprobe', ['ipv6']);
    await run('modprobe', ['ip_vs']);
  });
  afterEach(async () => {
    await deleteAllNetns();
  });

  it('programs TCP/UDP/SCTP/fwmark services, IPv4 and IPv6 (R6.3, R16.1), and dumps them back as ipvsadm -Ln shows them', async () => {
    const ns = await nodeNs('program');
    const out = await scenario<{ entries: Dumped[] }>(ns, 'program');
    expect(programmed(out.entries)).to.deep.equal(canonical(TABLE));
    const listed = ipvsadmBlocks(await ipvsadm(ns, ['-Ln']));
    expect(listed).to.deep.equal(renderBlocks(out.entries));
    expect(listed).to.have.length(TABLE.length);
  });

  it('reads tunnel type, port and flags as ipvsadm --tun-info does', async () => {
    const ns = await nodeNs('tun');
    const out = await scenario<{ entries: Dumped[] }>(ns, 'program');
    const tunnel = must(out.entries.flatMap((e) => e.destinations).find((d) => d.forward === 2));
    expect([tunnel.tunType, tunnel.tunPort, tunnel.tunFlags]).to.deep.equal([1, 6080, 1]);
    const text = await ipvsadm(ns, ['-Ln', '--tun-info']);
    expect(text).to.match(/-> 10\.1\.0\.7:6443\s+Tunnel\s+gue:6080:\+c\s/);
  });

  it('reads info, timeouts, daemons and single services as ipvsadm reports them', async () => {
    const ns = await nodeNs('readers');
    await scenario(ns, 'program');
    const r = await scenario<{
      info: { version: number; connTableSize: number };
      timeouts: { tcp: number; tcpFin: number; udp: number };
      daemons: unknown[];
      present: IpvsService;
      absent?: IpvsService;
    }>(ns, 'readers');
    const v = r.info.version;
    const header = `IP Virtual Server version ${v >> 16}.${(v >> 8) & 0xff}.${v & 0xff} (size=${r.info.connTableSize})`;
    expect((await ipvsadm(ns, ['-Ln'])).split('\n')[0]).to.equal(header);
    expect((await ipvsadm(ns, ['-L', '--timeout'])).trim()).to.equal(
      `Timeout (tcp tcpfin udp): ${r.timeouts.tcp} ${r.timeouts.tcpFin} ${r.timeouts.udp}`,
    );
    expect(r.daemons).to.deep.equal([]);
    expect(must(programmed([{ service: r.present, destinations: [] }])[0]).service).to.deep.equal(
      must(TABLE[0]).service,
    );
    expect(r).to.not.have.property('absent');
  });

  it('updates and deletes services and destinations; errors carry errno names', async () => {
    const ns = await nodeNs('update');
    await scenario(ns, 'program');
    const out = await scenario<{
      entries: Dumped[];
      errors: Record<string, { code: string; message: string }>;
    }>(ns, 'update');
    const first = must(out.entries.find((e) => e.service.address === '10.96.0.1'));
    expect(first.service).to.include({ scheduler: 'wlc', timeout: 600, netmask: 0xffff0000 });
    expect(first.destinations.map((d) => d.address).sort()).to.deep.equal(['10.1.0.5', '10.1.0.7']);
    expect(first.destinations.find((d) => d.address === '10.1.0.5')).to.include({
      weight: 9,
      upperThreshold: 5,
    });
    expect(out.entries.some((e) => e.service.address === 'fd00::a')).to.equal(false);
    expect(ipvsadmBlocks(await ipvsadm(ns, ['-Ln']))).to.deep.equal(renderBlocks(out.entries));
    expect(must(out.errors.deleteMissingService).code).to.equal('ESRCH');
    expect(must(out.errors.addDuplicateService).code).to.equal('EEXIST');
    expect(must(out.errors.addDuplicateService).message).to.contain(
      'IPVS_CMD_NEW_SERVICE TCP 10.96.0.1:443',
    );
    expect(must(out.errors.updateMissingDest).code).to.equal('ENOENT');
    expect(must(out.errors.unknownScheduler).code).to.equal('ENOENT');
  });

  it('batches many messages per datagram; a failing op gets its own error and the rest apply', async () => {
    const ns = await nodeNs('batch');
    const out = await scenario<{
      results: Array<'ok' | { code: string; message: string }>;
      entries: Dumped[];
    }>(ns, 'batch');
    expect(out.results.map((r) => (r === 'ok' ? 'ok' : r.code))).to.deep.equal([
      'ok',
      'ok',
      'EEXIST',
      'ok',
      'ESRCH',
      'ok',
      'ESRCH',
      'ok',
    ]);
    expect((out.results[4] as { message: string }).message).to.contain(
      '10.97.0.3:80 -> 10.1.1.2:8080',
    );
    expect(ipvsadmBlocks(await ipvsadm(ns, ['-Ln']))).to.deep.equal([
      'TCP  10.97.0.1:80 rr\n  -> 10.1.1.1:8080                Masq    1      0          0         ',
      'TCP  10.97.0.2:80 rr\n  -> 10.1.1.3:8080                Masq    1      0          0         \n' +
        '  -> 10.1.1.4:8080                Masq    1      0          0         ',
    ]);
  });

  it('survives a receive-buffer overrun: replies-lost errors, then a re-dump shows the kernel state', async () => {
    const ns = await nodeNs('overrun');
    const out = await scenario<{
      counts: Record<string, number>;
      overruns: number;
      redumped: number;
    }>(ns, 'overrun');
    expect(out.overruns).to.be.greaterThan(0);
    expect(out.counts.NetlinkRepliesLostError ?? 0).to.be.greaterThan(0);
    expect((out.counts.ok ?? 0) + (out.counts.NetlinkRepliesLostError ?? 0)).to.equal(600);
    // The kernel applied every message even though it dropped the ACKs.
    expect(out.redumped).to.equal(600);
    const listed = (await ipvsadm(ns, ['-Ln']))
      .split('\n')
      .filter((l) => l.startsWith('TCP  10.97.'));
    expect(listed).to.have.length(600);
  });

  it('sets and reads timeouts as ipvsadm -L --timeout shows them', async () => {
    const ns = await nodeNs('timeouts');
    const out = await scenario<{ before: object; mid: object; after: object }>(ns, 'timeouts');
    expect(out.before).to.deep.equal({ tcp: 900, tcpFin: 120, udp: 300 });
    expect(out.mid).to.deep.equal({ tcp: 1000, tcpFin: 120, udp: 200 });
    expect(out.after).to.deep.equal({ tcp: 1000, tcpFin: 30, udp: 200 });
    expect((await ipvsadm(ns, ['-L', '--timeout'])).trim()).to.equal(
      'Timeout (tcp tcpfin udp): 1000 30 200',
    );
  });

  it('reads 64-bit stats as ipvsadm -Ln --stats --exact does, and zeroes them', async () => {
    const ns = await nodeNs('stats');
    const out = await scenario<{ service: IpvsService; destination: IpvsDestination }>(
      ns,
      'traffic',
    );
    const s = must(out.service.stats);
    expect(Number(s.inPackets)).to.be.greaterThan(0);
    const stats = (await ipvsadm(ns, ['-Ln', '--stats', '--exact', '-u', '10.96.9.9:5000'])).split(
      '\n',
    );
    const svcLine = must(stats.find((l) => l.startsWith('UDP  10.96.9.9:5000')));
    expect(svcLine.trim().split(/\s+/).slice(2)).to.deep.equal(
      [s.conns, s.inPackets, s.outPackets, s.inBytes, s.outBytes].map(String),
    );
    const d = must(out.destination.stats);
    const destLine = must(stats.find((l) => l.startsWith('  -> 10.1.0.1:5001')));
    expect(destLine.trim().split(/\s+/).slice(2)).to.deep.equal(
      [d.conns, d.inPackets, d.outPackets, d.inBytes, d.outBytes].map(String),
    );
    const zeroed = await scenario<{ entries: Dumped[] }>(ns, 'zero');
    expect(must(zeroed.entries[0]).service.stats).to.include({
      conns: '0',
      inPackets: '0',
      inBytes: '0',
    });
  });

  it('reads sync daemons started by ipvsadm', async () => {
    const ns = await nodeNs('daemons');
    await ipvsadm(ns, ['--start-daemon', 'master', '--mcast-interface', 'd0', '--syncid', '5']);
    const out = await scenario<{ daemons: Array<Record<string, unknown>> }>(ns, 'daemons');
    const text = await ipvsadm(ns, ['-L', '--daemon']);
    const d = must(out.daemons[0]);
    expect(out.daemons).to.have.length(1);
    expect(text.trim()).to.equal(
      `master sync daemon (mcast=${String(d.mcastIfn)}, syncid=${String(d.syncId)}, maxlen=${String(d.syncMaxLen)}, ` +
        `group=${String(d.mcastGroup)}, port=${String(d.mcastPort)}, ttl=${String(d.mcastTtl)})`,
    );
    expect(d).to.include({ state: 1, mcastIfn: 'd0', syncId: 5 });
  });

  it('flushes every service of the namespace', async () => {
    const ns = await nodeNs('flush');
    await scenario(ns, 'program');
    const out = await scenario<{ services: unknown[] }>(ns, 'flush');
    expect(out.services).to.deep.equal([]);
    expect(ipvsadmBlocks(await ipvsadm(ns, ['-Ln']))).to.deep.equal([]);
  });
});
