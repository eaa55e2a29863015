// `kube-ipvs run`, `plan` and `cleanup` against the real kernel inside UML: a node
// namespace running the daemon from a manifests directory, three echo backends, and a
// client that counts who answered.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertInUml } from '../../harness/in-uml.js';
import { startEcho, stopAllEcho } from '../../harness/echo.js';
import { runClient } from '../../harness/client.js';
import { deleteAllNetns } from '../../harness/netns.js';
import { buildLab, type Lab } from '../../harness/topology.js';
import * as d from './daemon.js';

const vip = '10.96.0.10';

function service(scheduler?: string): string {
  const annotations = scheduler ? `\n  annotations:\n    kube-ipvs.io/scheduler: ${scheduler}` : '';
  return `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default${annotations}
spec:
  type: ClusterIP
  clusterIP: ${vip}
  clusterIPs: [${vip}]
  ports:
    - name: http
      protocol: TCP
      port: 80
      targetPort: 8080
    - name: dns
      protocol: UDP
      port: 53
      targetPort: 5353
`;
}

function slice(addresses: readonly string[]): string {
  const eps = addresses
    .map((a) => `  - addresses: ["${a}"]\n    conditions: {ready: true}\n    nodeName: node-a`)
    .join('\n');
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: default
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
  - name: http
    protocol: TCP
    port: 8080
  - name: dns
    protocol: UDP
    port: 5353
endpoints:
${eps}
`;
}

/**
 * A virtual server kube-ipvs does not own (its address is neither on kube-ipvs0 nor the
 * node's). ipvsadm's wrapping address comparison lists it before 10.96.0.10.
 */
const FOREIGN = '-A -t 192.0.2.50:9999 -s wlc\n';

function expectedSave(backends: readonly string[], scheduler = 'rr', weights?: number[]): string {
  const lines = [`-A -t ${vip}:80 -s ${scheduler}`];
  backends.forEach((b, i) => lines.push(`-a -t ${vip}:80 -r ${b}:8080 -m -w ${weights?.[i] ?? 1}`));
  lines.push(`-A -u ${vip}:53 -s ${scheduler}`);
  for (const b of backends) lines.push(`-a -u ${vip}:53 -r ${b}:5353 -m -w 1`);
  return `${lines.join('\n')}\n`;
}

describe('kube-ipvs run, plan and cleanup in the kernel (manifests source)', function () {
  this.timeout(120_000);
  let lab: Lab;
  let dir: string;
  let configFile: string;
  let daemon: d.Daemon;
  let addrs: string[];

  const ipvsadm = (args: string[]): Promise<string> => d.ipvsadm(lab.node, args);
  const kubeIpvs = (args: string[]): Promise<d.CommandOutcome> => d.kubeIpvs(lab.node, args);
  const common = (): string[] => [
    '--manifests',
    dir,
    '--node-name',
    'node-a',
    '--config',
    configFile,
  ];
  const writeConfig = (extra = ''): void => d.writeConfig(configFile, extra);
  const waitForSave = (want: string): Promise<void> =>
    d.waitForSave(lab.node, want, { context: () => `daemon log:\n${daemon.log}` });
  const waitForLog = (pattern: RegExp): Promise<void> => daemon.waitForLog(pattern);
  const startDaemon = (): void => daemon.start();
  const stopDaemon = (signal: NodeJS.Signals): Promise<number | null> => daemon.stop(signal);

  before(async function () {
    assertInUml();
    lab = await buildLab({ backends: 3 });
    daemon = new d.Daemon(lab.node, common);
    addrs = lab.backends.map((b) => b.address);
    for (const b of lab.backends)
      await startEcho(b.ns, { name: b.name, tcpPort: 8080, udpPort: 5353 });
    // /run is a tmpfs inside UML: inotify sees changes there, as on a ConfigMap volume
    // (the host filesystem UML boots from reports none).
    dir = mkdtempSync('/run/kube-ipvs-run-');
    configFile = join(dir, '..', `kube-ipvs-run-${process.pid}.yaml`);
    writeConfig();
    writeFileSync(join(dir, 'service.yaml'), service());
    writeFileSync(join(dir, 'slice.yaml'), slice(addrs));
  });

  after(async function () {
    await stopDaemon('SIGKILL');
    await stopAllEcho();
    await deleteAllNetns();
    rmSync(dir, { recursive: true, force: true });
    rmSync(configFile, { force: true });
  });

  it('plan on an empty node prints every operation in save syntax and exits 2', async function () {
    const r = await kubeIpvs(['plan', ...common()]);
    expect(r.code, r.stderr).to.equal(2);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).to.equal(`ip address add ${vip}/32 dev kube-ipvs0`);
    expect(lines).to.include(`-A -t ${vip}:80 -s rr`);
    expect(lines).to.include(`-a -u ${vip}:53 -r ${addrs[2]}:5353 -m -w 1`);
    expect(lines).to.have.length(9);
    expect(await ipvsadm(['-Sn'])).to.equal('');
  });

  it('R2.1 R6.1: run --once programs the kernel, exits 0, and rr answers 2/2/2', async function () {
    const r = await kubeIpvs(['run', '--once', ...common()]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await ipvsadm(['-Sn'])).to.equal(expectedSave(addrs));
    const dummy = await lab.node.ip(['-o', 'address', 'show', 'dev', 'kube-ipvs0']);
    expect(dummy).to.include(`${vip}/32`);
    const report = await runClient(lab.client, { proto: 'tcp', target: vip, port: 80, count: 6 });
    expect(report.errors).to.deep.equal({});
    expect(report.byBackend).to.deep.equal({ 'backend-1': 2, 'backend-2': 2, 'backend-3': 2 });
    const udp = await runClient(lab.client, { proto: 'udp', target: vip, port: 53, count: 3 });
    expect(udp.answered).to.equal(3);
  });

  it('plan after a sync finds nothing to do (exit 0, no output)', async function () {
    const r = await kubeIpvs(['plan', ...common()]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('');
  });

  it('R1.4 G-18: a removed endpoint drains (TCP weight 0, connections left) and UDP is deleted at once', async function () {
    writeFileSync(join(dir, 'slice.yaml'), slice(addrs.slice(1)));
    const r = await kubeIpvs(['plan', ...common()]);
    expect(r.code, r.stderr).to.equal(2);
    // The TCP connections of the traffic test linger in TIME_WAIT (InActConn > 0).
    expect(r.stdout.trim().split('\n')).to.deep.equal([
      `-e -t ${vip}:80 -r ${addrs[0]}:8080 -m -w 0`,
      `-d -u ${vip}:53 -r ${addrs[0]}:5353`,
    ]);
    writeFileSync(join(dir, 'slice.yaml'), slice(addrs));
    expect((await kubeIpvs(['plan', ...common()])).code).to.equal(0);
  });

  it('the daemon follows endpoint changes, repairs drift, leaves foreign services, and reloads its config', async function () {
    await ipvsadm(['-A', '-t', '192.0.2.50:9999', '-s', 'wlc']);
    startDaemon();
    await waitForLog(/"kind":"full"/);
    await waitForSave(FOREIGN + expectedSave(addrs));
    // Scale up: a fourth endpoint with no echo server behind it is still programmed.
    const more = [...addrs, '10.244.0.40'];
    writeFileSync(join(dir, 'slice.yaml'), slice(more));
    await waitForSave(FOREIGN + expectedSave(more));
    writeFileSync(join(dir, 'slice.yaml'), slice(addrs));
    await waitForSave(FOREIGN + expectedSave(addrs));
    // Drift: a deleted virtual server and a changed weight are put back within a syncPeriod.
    await ipvsadm(['-D', '-u', `${vip}:53`]);
    await ipvsadm(['-e', '-t', `${vip}:80`, '-r', `${addrs[1]}:8080`, '-m', '-w', '5']);
    await waitForSave(FOREIGN + expectedSave(addrs));
    // A config edit changes the scheduler without a restart.
    writeConfig('scheduler: sh\n');
    await waitForSave(FOREIGN + expectedSave(addrs, 'sh'));
    // A broken config changes nothing and is reported.
    writeConfig('scheduler: nope\n');
    await waitForLog(/config rejected/);
    expect(await ipvsadm(['-Sn'])).to.equal(FOREIGN + expectedSave(addrs, 'sh'));
    writeConfig();
    await waitForSave(FOREIGN + expectedSave(addrs));
  });

  it('SIGTERM leaves the kernel as it is; a restart adopts it with no operation', async function () {
    const before = await ipvsadm(['-Sn']);
    expect(await stopDaemon('SIGTERM')).to.equal(0);
    expect(await ipvsadm(['-Sn'])).to.equal(before);
    startDaemon();
    await waitForLog(/"kind":"full"/);
    const first = daemon.log.split('\n').find((l) => l.includes('"kind":"full"')) ?? '';
    expect(first, daemon.log).to.include('"ops":0');
    expect(await ipvsadm(['-Sn'])).to.equal(before);
    expect(await stopDaemon('SIGTERM')).to.equal(0);
  });

  it('cleanup removes what kube-ipvs owns and nothing else', async function () {
    const r = await kubeIpvs(['cleanup', '--config', configFile]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('removed 2 virtual servers');
    expect(await ipvsadm(['-Sn'])).to.equal(FOREIGN);
    const links = await lab.node.ip(['-o', 'link', 'show']);
    expect(links).not.to.include('kube-ipvs0');
  });
});
