// The harness itself, inside UML: a VIP programmed with ipvsadm in a node namespace,
// three echo backends behind it, and a client namespace that counts who answered.
// If these fail, the kernel suite's traffic tests cannot be trusted either.
import { expect } from 'chai';
import { assertInUml } from '../../harness/in-uml.js';
import { startEcho, stopAllEcho } from '../../harness/echo.js';
import { runClient } from '../../harness/client.js';
import { Netns, deleteAllNetns, listNetns } from '../../harness/netns.js';
import { buildLab, type Lab } from '../../harness/topology.js';

const vip = '10.96.0.10';
const tcpPort = 80;
const udpPort = 53;
const backendTcp = 8080;
const backendUdp = 5353;

describe('kernel harness: IPVS in a node namespace with echo backends', function () {
  this.timeout(60_000);
  let lab: Lab;

  const ipvsadm = (args: string[]): Promise<{ stdout: string }> => lab.node.exec('ipvsadm', args);

  before(async function () {
    assertInUml();
    lab = await buildLab({ backends: 3 });
    await lab.node.addAddress(lab.vipDevice, `${vip}/32`);
    for (const b of lab.backends) {
      await startEcho(b.ns, { name: b.name, tcpPort: backendTcp, udpPort: backendUdp });
    }
    await ipvsadm(['-A', '-t', `${vip}:${tcpPort}`, '-s', 'rr']);
    await ipvsadm(['-A', '-u', `${vip}:${udpPort}`, '-s', 'rr']);
    for (const b of lab.backends) {
      await ipvsadm(['-a', '-t', `${vip}:${tcpPort}`, '-r', `${b.address}:${backendTcp}`, '-m']);
      await ipvsadm(['-a', '-u', `${vip}:${udpPort}`, '-r', `${b.address}:${backendUdp}`, '-m']);
    }
  });

  after(async function () {
    await stopAllEcho();
    await deleteAllNetns();
  });

  it('programs the services it was given (ipvsadm -Ln in the node namespace only)', async function () {
    const { stdout } = await ipvsadm(['-Ln']);
    expect(stdout).to.include(`TCP  ${vip}:${tcpPort} rr`);
    expect(stdout).to.include(`UDP  ${vip}:${udpPort} rr`);
    for (const b of lab.backends) expect(stdout).to.include(`${b.address}:${backendTcp}`);
    // IPVS state is per namespace: a fresh namespace sees an empty table.
    const other = await Netns.create('empty');
    const empty = (await other.exec('ipvsadm', ['-Ln'])).stdout;
    await other.delete();
    expect(empty).not.to.include(vip);
  });

  it('R2.1 R2.2 R6.1: 6 TCP connections with rr are answered 2/2/2 by three backends', async function () {
    const report = await runClient(lab.client, {
      proto: 'tcp',
      target: vip,
      port: tcpPort,
      count: 6,
    });
    expect(report.errors).to.deep.equal({});
    expect(report.answered).to.equal(6);
    expect(report.byBackend).to.deep.equal({ 'backend-1': 2, 'backend-2': 2, 'backend-3': 2 });
  });

  it('R10.7: NAT through the node preserves the client address the backends see', async function () {
    const report = await runClient(lab.client, {
      proto: 'tcp',
      target: vip,
      port: tcpPort,
      count: 3,
    });
    expect(report.answered).to.equal(3);
    for (const seen of Object.values(report.clientSeen)) {
      expect(seen).to.deep.equal([lab.clientAddress]);
    }
  });

  it('R2.2 R6.2: 6 UDP datagrams from fresh sockets with rr are answered 2/2/2', async function () {
    const report = await runClient(lab.client, {
      proto: 'udp',
      target: vip,
      port: udpPort,
      count: 6,
    });
    expect(report.errors).to.deep.equal({});
    expect(report.byBackend).to.deep.equal({ 'backend-1': 2, 'backend-2': 2, 'backend-3': 2 });
    for (const seen of Object.values(report.clientSeen)) {
      expect(seen).to.deep.equal([lab.clientAddress]);
    }
  });

  it('UDP from one socket is one IPVS flow and stays on one backend', async function () {
    const report = await runClient(lab.client, {
      proto: 'udp',
      target: vip,
      port: udpPort,
      count: 4,
      sameSocket: true,
    });
    expect(report.answered).to.equal(4);
    expect(Object.values(report.byBackend)).to.deep.equal([4]);
  });

  it('counts failures: a VIP port without a virtual service answers nobody', async function () {
    const report = await runClient(lab.client, {
      proto: 'tcp',
      target: vip,
      port: 81,
      count: 3,
      timeoutMs: 1000,
      deadlineMs: 10_000,
    });
    expect(report.answered).to.equal(0);
    expect(report.failed).to.equal(3);
    expect(report.byBackend).to.deep.equal({});
  });

  it('a removed real server stops receiving new connections', async function () {
    const gone = lab.backends[0];
    if (!gone) throw new Error('lab has no backends');
    await ipvsadm(['-d', '-t', `${vip}:${tcpPort}`, '-r', `${gone.address}:${backendTcp}`]);
    try {
      const report = await runClient(lab.client, {
        proto: 'tcp',
        target: vip,
        port: tcpPort,
        count: 4,
      });
      expect(report.answered).to.equal(4);
      expect(report.byBackend).to.deep.equal({ 'backend-2': 2, 'backend-3': 2 });
    } finally {
      await ipvsadm(['-a', '-t', `${vip}:${tcpPort}`, '-r', `${gone.address}:${backendTcp}`, '-m']);
    }
  });
});

describe('kernel harness: namespace registry', function () {
  it('deleteAllNetns removes every namespace this process created', async function () {
    assertInUml();
    const a = await Netns.create('reg-a');
    const b = await Netns.create('reg-b');
    expect(await listNetns()).to.include.members([a.name, b.name]);
    const deleted = await deleteAllNetns();
    expect(deleted).to.include.members([a.name, b.name]);
    const left = await listNetns();
    expect(left).not.to.include(a.name);
    expect(left).not.to.include(b.name);
  });
});
