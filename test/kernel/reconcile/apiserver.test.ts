// `kube-ipvs run --kubeconfig` in the real kernel inside UML: the daemon in the lab's node
// namespace watches the test API server (real informers through client-node) over a veth
// pair to UML's root namespace, where this test process serves the API. Every step is
// checked twice: the node's IPVS table (`ipvsadm -Sn`) and real connections from the
// client namespace, which must reach exactly the backends that should answer.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject, TestApiServer } from '../../fixtures/apiserver/index.js';
import { runClient, type ClientReport } from '../../harness/client.js';
import { startEcho, stopAllEcho } from '../../harness/echo.js';
import { closeAllHeld, holdConnection } from '../../harness/hold.js';
import { assertInUml } from '../../harness/in-uml.js';
import { deleteAllNetns } from '../../harness/netns.js';
import { buildLab, type Lab } from '../../harness/topology.js';
import * as d from '../../harness/daemon.js';
import { connectApiServer, createLabNode, disconnectApiServer } from './api-link.js';

const NODE = 'node-a';
const NODE_PORT = 30080;
const LB_IP = '203.0.113.10';
/** Virtual servers kube-ipvs does not own: not on kube-ipvs0, and a node address outside the NodePort range. */
const FOREIGN = ['-A -t 192.0.2.50:9999 -s wlc', '-A -t 198.51.100.1:8443 -s wlc'];

interface ServiceSpec {
  name: string;
  vip: string;
  port?: number;
  targetPort?: number;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  scheduler?: string;
}

function service(s: ServiceSpec): KubeObject {
  const type = s.type ?? 'ClusterIP';
  return {
    metadata: {
      namespace: 'default',
      name: s.name,
      ...(s.scheduler ? { annotations: { 'kube-ipvs.io/scheduler': s.scheduler } } : {}),
    },
    spec: {
      type,
      clusterIP: s.vip,
      clusterIPs: [s.vip],
      ports: [
        {
          name: 'http',
          protocol: 'TCP',
          port: s.port ?? 80,
          targetPort: s.targetPort ?? 8080,
          ...(type === 'ClusterIP' ? {} : { nodePort: NODE_PORT }),
        },
      ],
    },
    ...(type === 'LoadBalancer' ? { status: { loadBalancer: { ingress: [{ ip: LB_IP }] } } } : {}),
  };
}

function slice(svc: string, addresses: readonly string[], port = 8080): KubeObject {
  return {
    metadata: {
      namespace: 'default',
      name: `${svc}-1`,
      labels: { 'kubernetes.io/service-name': svc },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port }],
    endpoints: addresses.map((a) => ({
      addresses: [a],
      conditions: { ready: true },
      nodeName: NODE,
    })),
  };
}

/** Save lines of one TCP virtual server: real servers at weight 1, `draining` at 0. */
function vs(
  address: string,
  port: number,
  ready: readonly string[],
  options: { scheduler?: string; targetPort?: number; draining?: readonly string[] } = {},
): string[] {
  const target = options.targetPort ?? 8080;
  const head = `-A -t ${address}:${port} -s ${options.scheduler ?? 'rr'}`;
  const real = (a: string, w: number) => `-a -t ${address}:${port} -r ${a}:${target} -m -w ${w}`;
  return [
    head,
    ...ready.map((a) => real(a, 1)),
    ...(options.draining ?? []).map((a) => real(a, 0)),
  ];
}

const save = (...lines: string[][]): string => lines.flat().join('\n') + '\n';

/** Names of the backends that answered, sorted. */
const answered = (r: ClientReport): string[] => Object.keys(r.byBackend).sort();

describe('kube-ipvs run against the test API server, in the kernel (R1.2 R1.3 R1.4 R2.2 R4.1-R4.3 R4.6)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let api: TestApiServer;
  let dir: string;
  let configFile: string;
  let kubeconfig: string;
  let daemon: d.Daemon;
  /** Backend address → name, and the reverse. */
  let addr: string[];
  const name = (a: string): string => `backend-${addr.indexOf(a) + 1}`;

  const ipvsadm = (args: string[]): Promise<string> => d.ipvsadm(lab.node, args);
  const kubeIpvs = (args: string[]): Promise<d.CommandOutcome> => d.kubeIpvs(lab.node, args);
  /** The node's local routes through the dummy interface: how virtual addresses are local. */
  const localRoutes = (): Promise<string> =>
    lab.node.ip(['route', 'show', 'table', 'local', 'dev', 'kube-ipvs0']);
  const common = (): string[] => [
    '--kubeconfig',
    kubeconfig,
    '--node-name',
    NODE,
    '--config',
    configFile,
  ];
  const waitForSave = (want: string): Promise<void> =>
    d.waitForSave(lab.node, want, {
      canonical: true,
      context: () => `daemon log:\n${daemon.log.slice(-4000)}`,
    });
  const tcp = (target: string, port: number, count: number, local?: string) =>
    runClient(lab.client, {
      proto: 'tcp',
      target,
      port,
      count,
      ...(local ? { local } : {}),
    });
  /** `count` connections all answered, by exactly `who`, evenly (rr). */
  const expectEven = async (target: string, port: number, who: readonly string[]) => {
    const r = await tcp(target, port, who.length * 2);
    expect(r.errors, `${target}:${port}`).to.deep.equal({});
    expect(r.byBackend, `${target}:${port}`).to.deep.equal(
      Object.fromEntries(who.map((a) => [name(a), 2])),
    );
  };

  before(async function () {
    assertInUml();
    lab = await buildLab({ backends: 3 });
    addr = lab.backends.map((b) => b.address);
    for (const b of lab.backends) {
      // --keep-open: a connection stays until the client closes it (held connections).
      await startEcho(b.ns, { name: b.name, tcpPort: 8080, keepOpen: true, lifetimeMs: 600_000 });
      await startEcho(b.ns, { name: b.name, tcpPort: 9090, keepOpen: true, lifetimeMs: 600_000 });
    }
    api = await connectApiServer(lab);
    // /run is a tmpfs inside UML: inotify sees config edits there (hostfs reports none).
    dir = mkdtempSync('/run/kube-ipvs-api-');
    configFile = join(dir, 'config.yaml');
    kubeconfig = api.writeKubeconfig(join(dir, 'kubeconfig'));
    d.writeConfig(configFile);
    createLabNode(api, lab, NODE);
    daemon = new d.Daemon(lab.node, common);
  });

  after(async function () {
    await daemon?.stop('SIGKILL');
    await closeAllHeld();
    await disconnectApiServer(api);
    await stopAllEcho();
    await deleteAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('R1.2: plan exits 2 with the operations, run --once programs the kernel and exits 0, plan then exits 0', async function () {
    const vip = '10.96.0.10';
    api.create('services', service({ name: 'web', vip }));
    api.create('endpointslices', slice('web', addr.slice(0, 2)));
    const plan = await kubeIpvs(['plan', ...common()]);
    expect(plan.code, plan.stderr).to.equal(2);
    expect(plan.stdout.trim().split('\n')).to.deep.equal([
      `ip route add local ${vip}/32 dev kube-ipvs0 table local proto static`,
      ...vs(vip, 80, addr.slice(0, 2)),
    ]);
    expect(await ipvsadm(['-Sn'])).to.equal('');
    const once = await kubeIpvs(['run', '--once', ...common()]);
    expect(once.code, once.stderr).to.equal(0);
    expect(d.canonicalSave(await ipvsadm(['-Sn']))).to.equal(
      d.canonicalSave(save(vs(vip, 80, addr.slice(0, 2)))),
    );
    await expectEven(vip, 80, addr.slice(0, 2));
    const again = await kubeIpvs(['plan', ...common()]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.equal('');
  });

  it('R1.2 R1.4 R4.1 R4.2 R4.3 R4.6 G-18: a Service through its whole life, each step in the kernel and on the wire', async function () {
    const vip = '10.96.0.10';
    const node = lab.nodeAddress;
    const pod = lab.podGateway; // also a node address, so NodePorts are there too
    daemon.start();
    await daemon.waitForLog(/"kind":"full"/);
    // Where run --once left it: two endpoints.
    await waitForSave(save(vs(vip, 80, addr.slice(0, 2))));

    // Scale up to three.
    api.update('endpointslices', slice('web', addr));
    await waitForSave(save(vs(vip, 80, addr)));
    await expectEven(vip, 80, addr);

    // Scale down to one: the other two still hold connections in TIME_WAIT (InActConn),
    // so they drain at weight 0 (G-18) and get no new connection.
    api.update('endpointslices', slice('web', [addr[1] as string]));
    await waitForSave(
      save(vs(vip, 80, [addr[1] as string], { draining: [addr[0] as string, addr[2] as string] })),
    );
    const one = await tcp(vip, 80, 4);
    expect(one.errors).to.deep.equal({});
    expect(one.byBackend).to.deep.equal({ 'backend-2': 4 });

    // Back to three: the draining ones get their weight back in place.
    api.update('endpointslices', slice('web', addr));
    await waitForSave(save(vs(vip, 80, addr)));
    await expectEven(vip, 80, addr);

    // Ports: service port 80 → 8000 and target port 8080 → 9090 (the slice follows).
    api.update('services', service({ name: 'web', vip, port: 8000, targetPort: 9090 }));
    api.update('endpointslices', slice('web', addr, 9090));
    await waitForSave(save(vs(vip, 8000, addr, { targetPort: 9090 })));
    await expectEven(vip, 8000, addr);
    const old = await tcp(vip, 80, 1);
    expect(old.answered).to.equal(0);

    // ClusterIP → NodePort: the node's addresses serve the NodePort.
    const t = { targetPort: 9090 };
    api.update(
      'services',
      service({ name: 'web', vip, port: 8000, targetPort: 9090, type: 'NodePort' }),
    );
    await waitForSave(
      save(vs(vip, 8000, addr, t), vs(node, NODE_PORT, addr, t), vs(pod, NODE_PORT, addr, t)),
    );
    await expectEven(node, NODE_PORT, addr);
    await expectEven(vip, 8000, addr);

    // NodePort → LoadBalancer: the ingress IP is bound to kube-ipvs0 and serves too.
    api.update(
      'services',
      service({ name: 'web', vip, port: 8000, targetPort: 9090, type: 'LoadBalancer' }),
    );
    await waitForSave(
      save(
        vs(vip, 8000, addr, t),
        vs(node, NODE_PORT, addr, t),
        vs(pod, NODE_PORT, addr, t),
        vs(LB_IP, 8000, addr, t),
      ),
    );
    expect(await localRoutes()).to.include(`local ${LB_IP} proto static scope host`);
    await expectEven(LB_IP, 8000, addr);
    await expectEven(node, NODE_PORT, addr);

    // And back to ClusterIP: the NodePorts and the LB IP go (address unbound too).
    api.update('services', service({ name: 'web', vip, port: 8000, targetPort: 9090 }));
    await waitForSave(save(vs(vip, 8000, addr, t)));
    expect(await localRoutes()).not.to.include(LB_IP);
    expect((await tcp(node, NODE_PORT, 1)).answered).to.equal(0);
    await expectEven(vip, 8000, addr);

    // Delete: its virtual server and its address go.
    api.delete('services', 'default', 'web');
    api.delete('endpointslices', 'default', 'web-1');
    await waitForSave('');
    expect(await localRoutes()).not.to.include(vip);
    expect((await tcp(vip, 8000, 1)).answered).to.equal(0);
  });

  it('R1.2: a node taken over from kube-proxy keeps its virtual address bound as an address, adopts it with no operation, and unbinds it when the Service goes', async function () {
    const vip = '10.96.0.30';
    expect(await daemon.stop('SIGTERM')).to.equal(0);
    // kube-proxy's IPVS mode: the virtual address bound on kube-ipvs0, its virtual server.
    await lab.node.ip(['address', 'add', `${vip}/32`, 'dev', 'kube-ipvs0']);
    await ipvsadm(['-A', '-t', `${vip}:80`, '-s', 'rr']);
    for (const a of addr.slice(0, 2))
      await ipvsadm(['-a', '-t', `${vip}:80`, '-r', `${a}:8080`, '-m', '-w', '1']);
    api.create('services', service({ name: 'proxy', vip }));
    api.create('endpointslices', slice('proxy', addr.slice(0, 2)));
    const plan = await kubeIpvs(['plan', ...common()]);
    expect(plan.code, plan.stdout + plan.stderr).to.equal(0);

    daemon.start();
    await daemon.waitForLog(/"kind":"full"/);
    const full = daemon.synced().filter((l) => l.kind === 'full');
    expect(full.length, daemon.log).to.be.above(0);
    expect(full.map((l) => l.ops)).to.deep.equal(full.map(() => 0));
    // Left as the address it is (the kernel's own local route), no route of ours beside it.
    expect(await localRoutes()).not.to.include(`local ${vip} proto static`);
    await expectEven(vip, 80, addr.slice(0, 2));

    api.delete('services', 'default', 'proxy');
    api.delete('endpointslices', 'default', 'proxy-1');
    await waitForSave('');
    expect(await lab.node.ip(['-o', 'address', 'show', 'dev', 'kube-ipvs0'])).not.to.include(vip);
    expect((await tcp(vip, 80, 1)).answered).to.equal(0);
  });

  describe('schedulers with real connections (R2.2)', function () {
    const vip = '10.96.0.20';
    /** Further client addresses, for sh and dh. */
    const others = ['198.51.100.80', '198.51.100.81', '198.51.100.82', '198.51.100.83'];
    const rule = (scheduler: string): string =>
      `services:\n  - match: {name: sched}\n    scheduler: ${scheduler}\n`;
    const expectScheduler = (scheduler: string) =>
      waitForSave(save(vs(vip, 80, addr, { scheduler })));
    /** With one connection held open, `count` new ones all answer and none on the busy backend. */
    const avoidsBusy = async (): Promise<void> => {
      const held = await holdConnection(lab.client, { target: vip, port: 80 });
      try {
        const r = await tcp(vip, 80, 6);
        expect(r.errors).to.deep.equal({});
        expect(r.answered).to.equal(6);
        expect(r.byBackend, `busy: ${held.first.name}`).not.to.have.property(held.first.name);
        expect((await held.ask()).name).to.equal(held.first.name);
      } finally {
        await held.close();
      }
    };

    before(async function () {
      for (const a of others) await lab.client.addAddress('eth0', `${a}/24`);
      if (!daemon.running) daemon.start();
      api.create('services', service({ name: 'sched', vip }));
      api.create('endpointslices', slice('sched', addr));
    });

    it('rr (the default) answers 6 connections 2/2/2 over 3 backends', async function () {
      await expectScheduler('rr');
      await expectEven(vip, 80, addr);
    });

    it('sh from a config rule, applied without a restart: one client address sticks to one backend, others spread', async function () {
      d.writeConfig(configFile, rule('sh'));
      await expectScheduler('sh');
      const first = await tcp(vip, 80, 20);
      expect(first.answered).to.equal(20);
      expect(answered(first)).to.have.length(1);
      const seen = new Set(answered(first));
      for (const a of others) {
        const r = await tcp(vip, 80, 5, a);
        expect(r.answered, a).to.equal(5);
        expect(answered(r), a).to.have.length(1);
        seen.add(answered(r)[0] as string);
      }
      expect(seen.size).to.be.at.least(2);
    });

    it('lc from the annotation (over the rule) sends new connections away from a backend holding one', async function () {
      api.update('services', service({ name: 'sched', vip, scheduler: 'lc' }));
      await expectScheduler('lc');
      await avoidsBusy();
    });

    it('sed from a config rule avoids the busy backend', async function () {
      d.writeConfig(configFile, rule('sed'));
      api.update('services', service({ name: 'sched', vip }));
      await expectScheduler('sed');
      await avoidsBusy();
    });

    it('nq from the annotation avoids the busy backend', async function () {
      api.update('services', service({ name: 'sched', vip, scheduler: 'nq' }));
      await expectScheduler('nq');
      await avoidsBusy();
    });

    it('dh from a config rule: every client address reaches the same backend for this destination', async function () {
      api.update('services', service({ name: 'sched', vip }));
      d.writeConfig(configFile, rule('dh'));
      await expectScheduler('dh');
      const r = await tcp(vip, 80, 10);
      expect(r.answered).to.equal(10);
      expect(answered(r)).to.have.length(1);
      for (const a of others.slice(0, 2)) {
        const o = await tcp(vip, 80, 5, a);
        expect(o.byBackend, a).to.deep.equal({ [answered(r)[0] as string]: 5 });
      }
    });

    it('a broken config changes nothing and is reported in the log; fixing it applies again', async function () {
      const mark = daemon.mark();
      d.writeConfig(configFile, rule('nope'));
      await daemon.waitForLog(/config rejected/, mark);
      // A full resync (every 2 s) has run since, and the table is as it was.
      const after = daemon.mark();
      await daemon.waitForLog(/"kind":"full"/, after);
      expect(d.canonicalSave(await ipvsadm(['-Sn']))).to.equal(
        d.canonicalSave(save(vs(vip, 80, addr, { scheduler: 'dh' }))),
      );
      d.writeConfig(configFile);
      await expectScheduler('rr');
    });
  });

  // After the schedulers: mocha runs a suite's own tests before its nested suites.
  describe('restart, drift, draining and cleanup', function () {
    it('R1.2 R1.4: after SIGKILL and an endpoint change, a restart applies only the delta and a held connection keeps working', async function () {
      const vip = '10.96.0.20';
      await waitForSave(save(vs(vip, 80, addr)));
      const held = await holdConnection(lab.client, { target: vip, port: 80 });
      await daemon.stop('SIGKILL');
      const more = [...addr, '10.244.0.40'];
      api.update('endpointslices', slice('sched', more));
      daemon.start();
      await daemon.waitForLog(/"kind":"full"/);
      const [first] = daemon.synced().filter((l) => l.kind === 'full');
      expect(first?.ops, daemon.log).to.equal(1);
      expect(first?.byOp).to.deep.equal({ addDestination: { ok: 1, failed: 0 } });
      await waitForSave(save(vs(vip, 80, more)));
      expect((await held.ask()).name).to.equal(held.first.name);
      await held.close();
      api.update('endpointslices', slice('sched', addr));
      await waitForSave(save(vs(vip, 80, addr)));
    });

    it('R1.3: drift by hand (-D, -a, -e) is repaired within one syncPeriod; foreign virtual servers are left alone', async function () {
      const vip = '10.96.0.20';
      const other = '10.96.0.40';
      api.create('services', service({ name: 'drift', vip: other }));
      api.create('endpointslices', slice('drift', [addr[0] as string]));
      const want = save(FOREIGN, vs(vip, 80, addr), vs(other, 80, [addr[0] as string]));
      for (const f of FOREIGN) await ipvsadm(f.split(' '));
      await waitForSave(want);
      await ipvsadm(['-D', '-t', `${other}:80`]);
      await ipvsadm(['-a', '-t', `${vip}:80`, '-r', '10.244.0.99:8080', '-m', '-w', '1']);
      await ipvsadm(['-e', '-t', `${vip}:80`, '-r', `${addr[1]}:8080`, '-m', '-w', '5']);
      const start = Date.now();
      await waitForSave(want);
      // syncPeriod is 2 s: the next full resync comes at most that long after the edit.
      expect(Date.now() - start).to.be.below(3500);
      await expectEven(other, 80, [addr[0] as string]);
    });

    it('R1.4 G-18: a removed endpoint with an open connection drains at weight 0, keeps serving it, and goes once it closes', async function () {
      const vip = '10.96.0.30';
      const two = addr.slice(0, 2);
      api.create('services', service({ name: 'drain', vip }));
      api.create('endpointslices', slice('drain', two));
      await waitForSave(
        save(
          FOREIGN,
          vs('10.96.0.20', 80, addr),
          vs('10.96.0.40', 80, [addr[0] as string]),
          vs(vip, 80, two),
        ),
      );
      // A fresh virtual server: the held connection is the only one it ever had.
      const held = await holdConnection(lab.client, { target: vip, port: 80 });
      const busy = two.find((a) => name(a) === held.first.name) as string;
      const rest = two.filter((a) => a !== busy);
      api.update('endpointslices', slice('drain', rest));
      const draining = save(
        FOREIGN,
        vs('10.96.0.20', 80, addr),
        vs('10.96.0.40', 80, [addr[0] as string]),
        vs(vip, 80, rest, { draining: [busy] }),
      );
      await waitForSave(draining);
      const listing = await ipvsadm(['-Ln', '-t', `${vip}:80`]);
      expect(listing).to.match(
        new RegExp(`-> ${busy.replaceAll('.', '\\.')}:8080\\s+Masq\\s+0\\s+1\\s+0`),
      );
      expect((await held.ask()).name).to.equal(held.first.name);
      const fresh = await tcp(vip, 80, 4);
      expect(fresh.byBackend).to.deep.equal({ [name(rest[0] as string)]: 4 });
      // It stays while the connection is open: several drain polls (1 s) and a full resync
      // (2 s) pass. Nothing to poll for here: the condition is that nothing happens.
      const mark = daemon.mark();
      await daemon.waitForLog(/"kind":"full"/, mark);
      await new Promise((r) => setTimeout(r, 1500));
      expect(d.canonicalSave(await ipvsadm(['-Sn']))).to.equal(d.canonicalSave(draining));
      expect((await held.ask()).name).to.equal(held.first.name);
      // The connection ends with a RST: IPVS keeps its entry 10 s in CLOSE (a FIN would leave
      // it 120 s in TIME_WAIT, which no timeout setting shortens). gracefulTermination.timeout
      // is its 15 min default, so a deletion now follows the connection count reaching 0.
      await held.reset();
      const closed = Date.now();
      await d.waitForSave(
        lab.node,
        save(
          FOREIGN,
          vs('10.96.0.20', 80, addr),
          vs('10.96.0.40', 80, [addr[0] as string]),
          vs(vip, 80, rest),
        ),
        {
          canonical: true,
          tries: 250,
          context: () => daemon.log.slice(-3000),
        },
      );
      expect(Date.now() - closed).to.be.below(20_000);
      // By the drain poll or the full resync, whichever came first.
      const deleted = daemon.synced(mark).filter((l) => l.byOp.deleteDestination !== undefined);
      expect(
        deleted.map((l) => l.byOp),
        daemon.log.slice(-3000),
      ).to.deep.equal([{ deleteDestination: { ok: 1, failed: 0 } }]);
    });

    it('cleanup removes what kube-ipvs owns and leaves the foreign virtual servers', async function () {
      expect(await daemon.stop('SIGTERM')).to.equal(0);
      const r = await kubeIpvs(['cleanup', '--config', configFile]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include('removed 3 virtual servers');
      expect(d.canonicalSave(await ipvsadm(['-Sn']))).to.equal(d.canonicalSave(save(FOREIGN)));
      expect(await lab.node.ip(['-o', 'link', 'show'])).not.to.include('kube-ipvs0');
      // A plan against the API server now wants everything back.
      const plan = await kubeIpvs(['plan', ...common()]);
      expect(plan.code, plan.stderr).to.equal(2);
    });
  });
});
