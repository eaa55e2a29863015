// The masquerade (SNAT) rules against the real kernel inside UML, driven through the
// daemon from a manifests directory: which source address an echo backend sees for each
// kind of traffic, that hairpin traffic is answered, that SNAT is what brings replies back
// when the backend has no route to the client, that the rule count does not grow with the
// Services, and that cleanup removes the chains and sets.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandError } from '../../harness/exec.js';
import { assertInUml } from '../../harness/in-uml.js';
import { startEcho, stopAllEcho } from '../../harness/echo.js';
import { runClient, type ClientReport } from '../../harness/client.js';
import { deleteAllNetns } from '../../harness/netns.js';
import { buildLab, type Lab } from '../../harness/topology.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '../../../../bin/kube-ipvs.js');
const vip = '10.96.0.30';
const nodePort = 30080;

function service(
  name: string,
  clusterIP: string,
  port: number,
  policy: 'Cluster' | 'Local',
): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  type: NodePort
  clusterIP: ${clusterIP}
  clusterIPs: [${clusterIP}]
  externalTrafficPolicy: ${policy}
  ports:
    - {name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: ${port}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-1
  namespace: default
  labels: {kubernetes.io/service-name: ${name}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - addresses: ["10.244.0.11"]
    conditions: {ready: true}
    nodeName: node-a
`;
}

describe('masquerade rules in the kernel (SNAT, hairpin, masqueradeAll, clusterCIDR)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let dir: string;
  let configFile: string;
  let daemon: ChildProcess | undefined;
  let daemonLog = '';

  const inNode = async (cmd: string, args: string[]): Promise<string> =>
    (await lab.node.exec(cmd, args)).stdout;
  const writeConfig = (extra = ''): void =>
    writeFileSync(
      configFile,
      `apiVersion: kube-ipvs.io/v1alpha1\nkind: KubeIpvsConfiguration\nminSyncPeriod: 0s\nsyncPeriod: 2s\n${extra}`,
    );
  const members = async (set: string): Promise<string[]> => {
    try {
      const out = await inNode('ipset', ['save', set]);
      return out
        .split('\n')
        .filter((l) => l.startsWith('add '))
        .map((l) => l.split(' ')[2] ?? '')
        .sort();
    } catch (e) {
      if (e instanceof CommandError) return [];
      throw e;
    }
  };
  /** Our rules as iptables-save prints them (the daemon falls back to legacy in UML). */
  const ourRules = async (): Promise<string[]> =>
    (await inNode('iptables-legacy-save', ['-t', 'nat']))
      .split('\n')
      .filter((l) => l.includes('KUBE-IPVS-'));
  /** Polls a condition (bounded: 20 s). */
  const waitFor = async (what: string, ok: () => Promise<boolean>): Promise<void> => {
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      if (await ok()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect.fail(`timed out waiting for ${what}; daemon log:\n${daemonLog}`);
  };
  const hasMember =
    (set: string, entry: string, want = true) =>
    async () =>
      (await members(set)).includes(entry) === want;
  const backend = (i: number) => {
    const b = lab.backends[i];
    if (!b) throw new Error(`no backend ${i}`);
    return b;
  };
  const pod1 = () => backend(0);
  const pod2 = () => backend(1);
  const seen = (r: ClientReport): string[] => r.clientSeen['backend-1'] ?? [];
  const fromClient = (target: string, port: number, timeoutMs = 3000) =>
    runClient(lab.client, { proto: 'tcp', target, port, count: 3, timeoutMs, deadlineMs: 15_000 });

  before(async function () {
    assertInUml();
    lab = await buildLab({ backends: 2 });
    for (const b of lab.backends) await startEcho(b.ns, { name: b.name, tcpPort: 8080 });
    // /run is a tmpfs inside UML, where inotify works (see run.test.ts).
    dir = mkdtempSync('/run/kube-ipvs-masq-');
    configFile = join(dir, '..', `kube-ipvs-masq-${process.pid}.yaml`);
    writeConfig();
    writeFileSync(join(dir, 'np.yaml'), service('np', vip, nodePort, 'Cluster'));
    daemon = lab.node.spawn(
      process.execPath,
      [bin, 'run', '--manifests', dir, '--node-name', 'node-a', '--config', configFile],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    daemon.stderr?.on('data', (b: Buffer) => (daemonLog += b.toString()));
  });

  after(async function () {
    const d = daemon;
    if (d && d.exitCode === null) {
      const exited = new Promise((r) => d.once('exit', r));
      d.kill('SIGKILL');
      await exited;
    }
    await stopAllEcho();
    await deleteAllNetns();
    rmSync(dir, { recursive: true, force: true });
    rmSync(configFile, { force: true });
  });

  it('R10.1: a Cluster-policy NodePort is masqueraded: the backend sees the node, not the client', async function () {
    await waitFor(
      'the NodePort in KUBE-IPVS-EXTERNAL',
      hasMember('KUBE-IPVS-EXTERNAL', `${lab.nodeAddress},tcp:${nodePort}`),
    );
    expect(daemonLog).to.match(/masquerade rules written/);
    const r = await fromClient(lab.nodeAddress, nodePort);
    expect(r.errors, daemonLog).to.deep.equal({});
    expect(r.answered).to.equal(3);
    expect(seen(r)).to.deep.equal([lab.podGateway]);
  });

  it('R10.3 R10.7: externalTrafficPolicy Local keeps the client address', async function () {
    writeFileSync(join(dir, 'np.yaml'), service('np', vip, nodePort, 'Local'));
    await waitFor(
      'the NodePort leaving KUBE-IPVS-EXTERNAL',
      hasMember('KUBE-IPVS-EXTERNAL', `${lab.nodeAddress},tcp:${nodePort}`, false),
    );
    const r = await fromClient(lab.nodeAddress, nodePort);
    expect(r.answered, JSON.stringify(r)).to.equal(3);
    expect(seen(r)).to.deep.equal([lab.clientAddress]);
  });

  it('hairpin: a pod that reaches its own Service and is sent to itself gets an answer', async function () {
    await waitFor(
      'backend-1 in KUBE-IPVS-LOOP-BACK',
      hasMember('KUBE-IPVS-LOOP-BACK', '10.244.0.11,tcp:8080,10.244.0.11'),
    );
    const r = await runClient(pod1().ns, {
      proto: 'tcp',
      target: vip,
      port: 80,
      count: 3,
      timeoutMs: 3000,
    });
    expect(r.errors, daemonLog).to.deep.equal({});
    expect(r.byBackend).to.deep.equal({ 'backend-1': 3 });
    expect(seen(r)).to.deep.equal([lab.podGateway]);
  });

  it('ClusterIP: the client address is kept by default; clusterCIDR masquerades traffic from outside the pod network only', async function () {
    let r = await fromClient(vip, 80);
    expect(seen(r)).to.deep.equal([lab.clientAddress]);
    writeConfig('clusterCIDR: 10.244.0.0/16\n');
    await waitFor('the clusterCIDR rule', async () =>
      (await ourRules()).some((l) => l.includes('! -s 10.244.0.0/16')),
    );
    r = await fromClient(vip, 80);
    expect(seen(r)).to.deep.equal([lab.podGateway]);
    // A pod of the pod network (backend-2) reaching the ClusterIP keeps its address. The
    // lab's pods share one bridge subnet; as on a routed pod network, backend-1's replies
    // to backend-2 must pass the node to be un-NATed.
    await pod1().ns.ip(['route', 'add', '10.244.0.12/32', 'via', lab.podGateway]);
    const pod = await runClient(pod2().ns, {
      proto: 'tcp',
      target: vip,
      port: 80,
      count: 2,
    });
    expect(pod.errors, JSON.stringify(pod)).to.deep.equal({});
    expect(seen(pod)).to.deep.equal(['10.244.0.12']);
  });

  it('R10.2: SNAT is what brings replies back when the backend has no route to the client (masqueradeAll)', async function () {
    writeConfig();
    await waitFor(
      'the clusterCIDR rule gone',
      async () => !(await ourRules()).some((l) => l.includes('! -s')),
    );
    // backend-1 now reaches only its own link: replies to 198.51.100.79 have no route.
    await pod1().ns.ip(['route', 'del', 'default']);
    const lost = await fromClient(vip, 80, 1000);
    expect(lost.answered).to.equal(0);
    writeFileSync(join(dir, 'np.yaml'), service('np', vip, nodePort, 'Cluster'));
    await waitFor(
      'the NodePort back in KUBE-IPVS-EXTERNAL',
      hasMember('KUBE-IPVS-EXTERNAL', `${lab.nodeAddress},tcp:${nodePort}`),
    );
    const np = await fromClient(lab.nodeAddress, nodePort);
    expect(np.answered, JSON.stringify(np)).to.equal(3);
    writeConfig('masqueradeAll: true\n');
    await waitFor('the masqueradeAll rule', async () =>
      (await ourRules()).some((l) => l.includes('masqueradeAll')),
    );
    const all = await fromClient(vip, 80);
    expect(all.answered, JSON.stringify(all)).to.equal(3);
    expect(seen(all)).to.deep.equal([lab.podGateway]);
  });

  it('the number of rules does not grow with the number of Services; the sets do', async function () {
    const before = await ourRules();
    const extBefore = (await members('KUBE-IPVS-EXTERNAL')).length;
    for (let i = 1; i <= 20; i++)
      writeFileSync(
        join(dir, `extra-${i}.yaml`),
        service(`extra-${i}`, `10.96.1.${i}`, 30100 + i, 'Cluster'),
      );
    await waitFor(
      '20 more ClusterIPs in KUBE-IPVS-CLUSTER-IP',
      async () => (await members('KUBE-IPVS-CLUSTER-IP')).length === 21,
    );
    // Each NodePort Service has a virtual server per node address (client link and pod bridge).
    expect((await members('KUBE-IPVS-EXTERNAL')).length).to.equal(extBefore + 40);
    expect(await ourRules()).to.deep.equal(before);
    for (let i = 1; i <= 20; i++) rmSync(join(dir, `extra-${i}.yaml`));
    await waitFor(
      'the 20 ClusterIPs gone',
      async () => (await members('KUBE-IPVS-CLUSTER-IP')).length === 1,
    );
    expect((await members('KUBE-IPVS-EXTERNAL')).length).to.equal(extBefore);
  });

  it('a full sync repairs members added or removed by hand, of our form or not', async function () {
    await waitFor(
      'the endpoint in LOOP-BACK',
      hasMember('KUBE-IPVS-LOOP-BACK', '10.244.0.11,tcp:8080,10.244.0.11'),
    );
    await waitFor(
      'the ClusterIP in CLUSTER-IP',
      hasMember('KUBE-IPVS-CLUSTER-IP', `${vip},tcp:80`),
    );
    const loop = await members('KUBE-IPVS-LOOP-BACK');
    const cluster = await members('KUBE-IPVS-CLUSTER-IP');
    // Each set's size changes: a resync reads the members of a set only then.
    await inNode('ipset', ['add', 'KUBE-IPVS-LOOP-BACK', '10.244.0.99,tcp:8080,10.244.0.99']);
    await inNode('ipset', ['add', 'KUBE-IPVS-LOOP-BACK', '10.244.0.11,tcp:8080,10.244.0.12']);
    await inNode('ipset', ['add', 'KUBE-IPVS-LOOP-BACK', '10.244.0.11,udp:8080,10.244.0.11']);
    await inNode('ipset', ['del', 'KUBE-IPVS-CLUSTER-IP', `${vip},tcp:80`]);
    const same = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b);
    await waitFor(
      'the sets as the desired table has them again',
      async () =>
        same(await members('KUBE-IPVS-LOOP-BACK'), loop) &&
        same(await members('KUBE-IPVS-CLUSTER-IP'), cluster),
    );
  });

  it('cleanup removes our chains, jumps and sets and nothing else', async function () {
    const d = daemon;
    daemon = undefined;
    if (d) {
      const exited = new Promise((r) => d.once('exit', r));
      d.kill('SIGTERM');
      await exited;
    }
    await inNode('iptables-legacy', [
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-s',
      '10.1.0.0/16',
      '-j',
      'MASQUERADE',
    ]);
    let out = '';
    try {
      out = (await lab.node.exec(process.execPath, [bin, 'cleanup', '--config', configFile]))
        .stdout;
    } catch (e) {
      expect.fail(String(e));
    }
    expect(out).to.match(/iptables-legacy chains/);
    expect(out).to.match(/3 ipsets/);
    expect(await ourRules()).to.deep.equal([]);
    expect(await inNode('iptables-legacy-save', ['-t', 'nat'])).to.include(
      '-A POSTROUTING -s 10.1.0.0/16 -j MASQUERADE',
    );
    const sets = await inNode('ipset', ['list', '-n']);
    expect(sets).not.to.match(/KUBE-IPVS-/);
  });
});
