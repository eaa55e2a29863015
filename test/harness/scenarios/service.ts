// Service behaviour with real connections, written once per backend: a Service's whole
// life through every type, both traffic policies with the source address the endpoint
// sees, ClientIP affinity (TCP and UDP), IPv6, rr's exact rotation, sh's stickiness per
// client, a random scheduler's spread (chi-square), graceful termination of a removed
// endpoint, and a restart that keeps a held-open connection. The daemon runs from a
// manifests directory in the lab's node namespace.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEcho, stopAllEcho } from '../echo.js';
import { runClient, type ClientReport } from '../client.js';
import { closeAllHeld, holdConnection } from '../hold.js';
import { deleteAllNetns } from '../netns.js';
import { buildLab, type Lab } from '../topology.js';
import { vsTable } from '../vs-table.js';
import * as d from '../daemon.js';
import type { RunTarget } from './run.js';

const NODE = 'node-a';
const NODE_PORT = 30080;
const LB_IP = '203.0.113.10';
/** Further client addresses (sh and affinity: one client is one address). */
const OTHERS = ['198.51.100.80', '198.51.100.81', '198.51.100.82', '198.51.100.83'];
/** chi-square with 2 degrees of freedom exceeds this with probability 0.001. */
const CHI2_2DF_P001 = 13.816;

export interface ServiceSpec {
  name: string;
  vip: string;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  policy?: 'Cluster' | 'Local';
  scheduler?: string;
  affinitySeconds?: number;
  udp?: boolean;
}

export function serviceYaml(s: ServiceSpec): string {
  const type = s.type ?? 'ClusterIP';
  const v6 = s.vip.includes(':');
  const ann = s.scheduler ? `, annotations: {kube-ipvs.io/scheduler: ${s.scheduler}}` : '';
  const node = type === 'ClusterIP' ? '' : `, nodePort: ${NODE_PORT}`;
  const affinity = s.affinitySeconds
    ? `  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: ${s.affinitySeconds}}}\n`
    : '';
  const lb = type === 'LoadBalancer' ? `status: {loadBalancer: {ingress: [{ip: ${LB_IP}}]}}\n` : '';
  return `apiVersion: v1
kind: Service
metadata: {name: ${s.name}, namespace: default${ann}}
spec:
  type: ${type}
  clusterIP: "${s.vip}"
  clusterIPs: ["${s.vip}"]
  ipFamilies: [${v6 ? 'IPv6' : 'IPv4'}]
${type === 'ClusterIP' ? '' : `  externalTrafficPolicy: ${s.policy ?? 'Cluster'}\n`}${affinity}  ports:
    - {name: http, protocol: TCP, port: 80, targetPort: 8080${node}}
${s.udp ? '    - {name: dns, protocol: UDP, port: 53, targetPort: 5353}\n' : ''}${lb}`;
}

export function sliceYaml(name: string, addresses: readonly string[], udp = false): string {
  const v6 = addresses.some((a) => a.includes(':'));
  const eps = addresses
    .map((a) => `  - addresses: ["${a}"]\n    conditions: {ready: true}\n    nodeName: ${NODE}`)
    .join('\n');
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-1
  namespace: default
  labels: {kubernetes.io/service-name: ${name}}
addressType: ${v6 ? 'IPv6' : 'IPv4'}
ports:
  - {name: http, protocol: TCP, port: 8080}
${udp ? '  - {name: dns, protocol: UDP, port: 5353}\n' : ''}endpoints:${eps ? `\n${eps}` : ' []'}
`;
}

/** Save lines of one virtual server with weight-1 real servers. */
export function vsLines(
  proto: 'TCP' | 'UDP',
  address: string,
  port: number,
  reals: readonly string[],
  head = '-s rr',
  target = proto === 'TCP' ? 8080 : 5353,
): string[] {
  const p = proto === 'TCP' ? '-t' : '-u';
  const at = (a: string, n: number) => (a.includes(':') ? `[${a}]:${n}` : `${a}:${n}`);
  return [
    `-A ${p} ${at(address, port)} ${head}`,
    ...reals.map((r) => `-a ${p} ${at(address, port)} -r ${at(r, target)} -m -w 1`),
  ];
}

const save = (...blocks: string[][]): string => `${blocks.flat().join('\n')}\n`;
const names = (r: ClientReport): string[] => Object.keys(r.byBackend).sort();

export type ServiceTarget = Pick<RunTarget, 'backend' | 'check' | 'lab' | 'tmpRoot' | 'drains'>;

export function serviceScenarios(t: ServiceTarget): void {
  let lab: Lab;
  let dir: string;
  let configFile: string;
  let daemon: d.Daemon;
  let addr: string[];
  let addr6: string[];
  const name = (a: string): string => `backend-${addr.indexOf(a) + 1}`;

  const write = (file: string, text: string): void => writeFileSync(join(dir, file), text);
  const remove = (file: string): void => rmSync(join(dir, file), { force: true });
  /** Waits until the node's table (canonical order) equals these blocks. */
  const waitFor = (...blocks: string[][]): Promise<void> =>
    d.waitForSave(lab.node, blocks.length === 0 ? '' : save(...blocks), {
      backend: t.backend,
      canonical: true,
      context: () => `daemon log:\n${daemon.log.slice(-4000)}`,
    });
  const tcp = (target: string, count: number, local?: string, port = 80) =>
    runClient(lab.client, {
      proto: 'tcp',
      target,
      port,
      count,
      ...(local ? { local } : {}),
    });
  const expectEven = async (target: string, who: readonly string[], rounds = 2, port = 80) => {
    const r = await tcp(target, who.length * rounds, undefined, port);
    expect(r.errors, `${target}:${port}`).to.deep.equal({});
    expect(r.byBackend, `${target}:${port}`).to.deep.equal(
      Object.fromEntries(who.map((a) => [name(a), rounds])),
    );
    return r;
  };

  before(async function () {
    t.check();
    lab = await buildLab({ ...t.lab, backends: 3 });
    addr = lab.backends.map((b) => b.address);
    addr6 = lab.backends.map((b) => b.address6 ?? '');
    for (const b of lab.backends)
      await startEcho(b.ns, {
        name: b.name,
        host: '::',
        tcpPort: 8080,
        udpPort: 5353,
        keepOpen: true,
        lifetimeMs: 600_000,
      });
    for (const a of OTHERS) await lab.client.addAddress('eth0', `${a}/24`);
    dir = mkdtempSync(join(t.tmpRoot, 'kube-ipvs-svc-'));
    configFile = join(dir, '..', `kube-ipvs-svc-${process.pid}.yaml`);
    d.writeConfig(configFile);
    daemon = new d.Daemon(lab.node, () => [
      '--manifests',
      dir,
      '--node-name',
      NODE,
      '--config',
      configFile,
    ]);
    daemon.start();
    await daemon.waitForLog(/"kind":"full"/);
  });

  // Each scenario starts from an empty table, whatever the one before left.
  afterEach(async function () {
    for (const f of readdirSync(dir)) rmSync(join(dir, f), { force: true });
    if (!daemon.running) daemon.start();
    await waitFor();
  });

  after(async function () {
    await daemon?.stop('SIGKILL');
    await closeAllHeld();
    await stopAllEcho();
    await deleteAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (configFile) rmSync(configFile, { force: true });
  });

  it("R4.1-R4.3 R10.1 R10.3: a Service's whole life: ClusterIP, NodePort (both policies, source address), LoadBalancer, no endpoints (rejected), deleted", async function () {
    const vip = '10.96.1.10';
    const node = lab.nodeAddress;
    const pod = lab.podGateway;
    const spec = { name: 'life', vip };
    write('life.yaml', serviceYaml(spec));
    write('life-slice.yaml', sliceYaml('life', addr.slice(0, 2)));
    await waitFor(vsLines('TCP', vip, 80, addr.slice(0, 2)));
    const first = await expectEven(vip, addr.slice(0, 2));
    // ClusterIP from outside the pod network keeps the client's address (no clusterCIDR).
    expect(Object.values(first.clientSeen).flat()).to.deep.equal([
      lab.clientAddress,
      lab.clientAddress,
    ]);
    // Scale up; rr rotates exactly: 9 connections, 3 each.
    write('life-slice.yaml', sliceYaml('life', addr));
    await waitFor(vsLines('TCP', vip, 80, addr));
    await expectEven(vip, addr, 3);
    // NodePort, policy Cluster: served on the node's addresses, masqueraded.
    write('life.yaml', serviceYaml({ ...spec, type: 'NodePort' }));
    await waitFor(
      vsLines('TCP', vip, 80, addr),
      vsLines('TCP', node, NODE_PORT, addr),
      vsLines('TCP', pod, NODE_PORT, addr),
    );
    const cluster = await expectEven(node, addr, 2, NODE_PORT);
    const seen = [...new Set(Object.values(cluster.clientSeen).flat())];
    expect(seen).not.to.include(lab.clientAddress);
    expect(
      seen.every((a) => [node, pod].includes(a)),
      seen.join(' '),
    ).to.equal(true);
    // Policy Local (every endpoint is on this node): the client's address is kept.
    write('life.yaml', serviceYaml({ ...spec, type: 'NodePort', policy: 'Local' }));
    await d.waitFor(
      'the NodePort out of the external set',
      async () => {
        const r = await tcp(node, 3, undefined, NODE_PORT);
        return (
          Object.values(r.clientSeen).flat().join() === Array(3).fill(lab.clientAddress).join()
        );
      },
      () => daemon.log.slice(-3000),
    );
    // LoadBalancer: the ingress IP serves too.
    write('life.yaml', serviceYaml({ ...spec, type: 'LoadBalancer' }));
    await waitFor(
      vsLines('TCP', vip, 80, addr),
      vsLines('TCP', node, NODE_PORT, addr),
      vsLines('TCP', pod, NODE_PORT, addr),
      vsLines('TCP', LB_IP, 80, addr),
    );
    await expectEven(LB_IP, addr);
    // No endpoints: the virtual servers stay, without real servers, and connections are
    // refused at once (REJECT with port-unreachable), not left to time out.
    write('life-slice.yaml', sliceYaml('life', []));
    write('life.yaml', serviceYaml(spec));
    // IPVS keeps the real servers at weight 0 while their TIME_WAIT connections last.
    const draining = t.drains ? addr.map((a) => `-a -t ${vip}:80 -r ${a}:8080 -m -w 0`) : [];
    await waitFor([...vsLines('TCP', vip, 80, []), ...draining]);
    const refused = await tcp(vip, 2);
    expect(refused.answered).to.equal(0);
    expect(refused.errors).to.deep.equal({ ECONNREFUSED: 2 });
    // Deleted: nothing left, and the address no longer answers.
    remove('life.yaml');
    remove('life-slice.yaml');
    await waitFor();
    const gone = await runClient(lab.client, {
      proto: 'tcp',
      target: vip,
      port: 80,
      count: 1,
      timeoutMs: 1000,
    });
    expect(gone.answered).to.equal(0);
  });

  it('ClientIP affinity: each client address sticks to one endpoint for TCP and UDP', async function () {
    const vip = '10.96.1.20';
    write('aff.yaml', serviceYaml({ name: 'aff', vip, affinitySeconds: 60, udp: true }));
    write('aff-slice.yaml', sliceYaml('aff', addr, true));
    await waitFor(
      vsLines('TCP', vip, 80, addr, '-s rr -p 60'),
      vsLines('UDP', vip, 53, addr, '-s rr -p 60'),
    );
    const r = await tcp(vip, 10);
    expect(r.answered).to.equal(10);
    expect(names(r)).to.have.length(1);
    for (const a of OTHERS.slice(0, 2)) {
      const o = await tcp(vip, 5, a);
      expect(o.answered, a).to.equal(5);
      expect(names(o), a).to.have.length(1);
    }
    // Each datagram from a fresh socket is a new flow; affinity still picks one endpoint
    // (the UDP virtual server's own choice).
    const udp = await runClient(lab.client, { proto: 'udp', target: vip, port: 53, count: 6 });
    expect(udp.answered).to.equal(6);
    expect(names(udp)).to.have.length(1);
    remove('aff.yaml');
    remove('aff-slice.yaml');
    await waitFor();
  });

  it('IPv6: a ClusterIP over IPv6 endpoints rotates 2/2/2 and keeps the client address', async function () {
    const vip = 'fd00:96::10';
    const client6 = lab.clientAddress6;
    if (!client6) this.skip();
    write('v6.yaml', serviceYaml({ name: 'v6', vip }));
    write('v6-slice.yaml', sliceYaml('v6', addr6));
    await waitFor(vsLines('TCP', vip, 80, addr6));
    const r = await runClient(lab.client, { proto: 'tcp', target: vip, port: 80, count: 6 });
    expect(r.errors).to.deep.equal({});
    expect(r.byBackend).to.deep.equal({ 'backend-1': 2, 'backend-2': 2, 'backend-3': 2 });
    expect([...new Set(Object.values(r.clientSeen).flat())]).to.deep.equal([client6]);
    remove('v6.yaml');
    remove('v6-slice.yaml');
    await waitFor();
  });

  it('R2.2 sh: one client address always reaches the same endpoint; other addresses spread', async function () {
    const vip = '10.96.1.30';
    write('sh.yaml', serviceYaml({ name: 'sh', vip, scheduler: 'sh' }));
    write('sh-slice.yaml', sliceYaml('sh', addr));
    await waitFor(vsLines('TCP', vip, 80, addr, '-s sh'));
    const first = await tcp(vip, 20);
    expect(first.answered).to.equal(20);
    expect(names(first)).to.have.length(1);
    const seen = new Set(names(first));
    for (const a of OTHERS) {
      const r = await tcp(vip, 5, a);
      expect(r.answered, a).to.equal(5);
      expect(names(r), a).to.have.length(1);
      seen.add(names(r)[0] as string);
    }
    expect(seen.size).to.be.at.least(2);
    remove('sh.yaml');
    remove('sh-slice.yaml');
    await waitFor();
  });

  it('R2.2 lc: connections spread over every endpoint (chi-square, p = 0.001)', async function () {
    const vip = '10.96.1.40';
    write('lc.yaml', serviceYaml({ name: 'lc', vip, scheduler: 'lc' }));
    write('lc-slice.yaml', sliceYaml('lc', addr));
    await waitFor(vsLines('TCP', vip, 80, addr, '-s lc'));
    const n = 300;
    const r = await tcp(vip, n);
    expect(r.answered).to.equal(n);
    const counts = addr.map((a) => r.byBackend[name(a)] ?? 0);
    const expected = n / addr.length;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2, `counts ${counts.join('/')}`).to.be.below(CHI2_2DF_P001);
    if (t.backend === 'iptables') {
      // Reported as approximated, once, however many syncs pass.
      const mark = daemon.mark();
      await daemon.waitForLog(/"kind":"full"/, mark);
      const warned = daemon.log
        .split('\n')
        .filter((l) => l.includes(`TCP/${vip}:80`) && l.includes('approximated'));
      expect(warned, daemon.log.slice(-2000)).to.have.length(1);
    }
    remove('lc.yaml');
    remove('lc-slice.yaml');
    await waitFor();
  });

  it('R1.4 G-18: a removed endpoint gets no new connection at once; an established one keeps flowing', async function () {
    const vip = '10.96.1.50';
    write('term.yaml', serviceYaml({ name: 'term', vip }));
    write('term-slice.yaml', sliceYaml('term', addr));
    await waitFor(vsLines('TCP', vip, 80, addr));
    const held = await holdConnection(lab.client, { target: vip, port: 80 });
    try {
      const busy = addr.find((a) => name(a) === held.first.name) as string;
      const rest = addr.filter((a) => a !== busy);
      write('term-slice.yaml', sliceYaml('term', rest));
      if (t.drains)
        await waitFor(
          vsLines('TCP', vip, 80, rest).concat(`-a -t ${vip}:80 -r ${busy}:8080 -m -w 0`),
        );
      else await waitFor(vsLines('TCP', vip, 80, rest));
      const fresh = await tcp(vip, 6);
      expect(fresh.errors).to.deep.equal({});
      expect(fresh.byBackend).not.to.have.property(held.first.name);
      expect((await held.ask()).name).to.equal(held.first.name);
    } finally {
      await held.close();
    }
    remove('term.yaml');
    remove('term-slice.yaml');
    await waitFor();
  });

  it('R1.2 R1.4: after SIGKILL and an endpoint change, a restart applies only the delta and a held connection keeps working', async function () {
    const vip = '10.96.1.60';
    write('hold.yaml', serviceYaml({ name: 'hold', vip }));
    write('hold-slice.yaml', sliceYaml('hold', addr));
    await waitFor(vsLines('TCP', vip, 80, addr));
    const held = await holdConnection(lab.client, { target: vip, port: 80 });
    try {
      await daemon.stop('SIGKILL');
      const more = [...addr, '10.244.0.40'];
      write('hold-slice.yaml', sliceYaml('hold', more));
      daemon.start();
      await daemon.waitForLog(/"kind":"full"/);
      const [first] = daemon.synced().filter((l) => l.kind === 'full');
      expect(first?.byOp, daemon.log).to.deep.equal({ addDestination: { ok: 1, failed: 0 } });
      await waitFor(vsLines('TCP', vip, 80, more));
      expect((await held.ask()).name).to.equal(held.first.name);
    } finally {
      await held.close();
    }
    expect(await vsTable(t.backend, lab.node)).to.include(`-A -t ${vip}:80 -s rr`);
  });
}
