// The scenarios of `kube-ipvs run`, `plan` and `cleanup` from a manifests directory,
// written once and run per backend: IPVS in the kernel inside UML
// (test/kernel/reconcile/run.test.ts), the iptables backend on the host kernel in network
// namespaces (test/integration/backends/iptables-run.test.ts). A node namespace runs the
// daemon, three echo backends answer, a client counts who answered; the node's table is
// compared in ipvsadm -Sn syntax for both backends (vs-table.ts). The daemon runs with the
// default `backend: auto`: IPVS where the kernel has it, else the iptables fallback.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEcho, stopAllEcho } from '../echo.js';
import { runClient } from '../client.js';
import { closeAllHeld } from '../hold.js';
import { deleteAllNetns } from '../netns.js';
import { buildLab, type Lab, type LabOptions } from '../topology.js';
import { vsTable, type BackendName } from '../vs-table.js';
import * as d from '../daemon.js';

/** What differs between the backends the scenarios run on. */
export interface RunTarget {
  readonly backend: BackendName;
  /** Fails unless the environment is the right one (UML for IPVS). */
  check(): void;
  readonly lab: LabOptions;
  /** Where the manifests and config go: a directory inotify watches. */
  readonly tmpRoot: string;
  /** A TCP real server left with connections drains at weight 0 (IPVS) or goes at once. */
  readonly drains: boolean;
  /** Virtual addresses are bound to kube-ipvs0. */
  readonly bindsAddresses: boolean;
  /** Something on the node kube-ipvs does not own: added, its table lines, still there. */
  readonly foreign: {
    add(lab: Lab): Promise<void>;
    readonly save: string;
    intact(lab: Lab): Promise<void>;
  };
  /** Hand edits: the UDP virtual server vip:53 removed, a TCP real server changed. */
  drift(lab: Lab, vip: string, addrs: readonly string[]): Promise<void>;
  /** Nothing of kube-ipvs is left after cleanup (the interface, chains). */
  cleaned(lab: Lab): Promise<void>;
}

export const VIP = '10.96.0.10';

export function service(scheduler?: string): string {
  const annotations = scheduler ? `\n  annotations:\n    kube-ipvs.io/scheduler: ${scheduler}` : '';
  return `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default${annotations}
spec:
  type: ClusterIP
  clusterIP: ${VIP}
  clusterIPs: [${VIP}]
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

export function slice(addresses: readonly string[]): string {
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

export function expectedSave(
  backends: readonly string[],
  scheduler = 'rr',
  weights?: number[],
): string {
  const lines = [`-A -t ${VIP}:80 -s ${scheduler}`];
  backends.forEach((b, i) => lines.push(`-a -t ${VIP}:80 -r ${b}:8080 -m -w ${weights?.[i] ?? 1}`));
  lines.push(`-A -u ${VIP}:53 -s ${scheduler}`);
  for (const b of backends) lines.push(`-a -u ${VIP}:53 -r ${b}:5353 -m -w 1`);
  return `${lines.join('\n')}\n`;
}

export function runScenarios(t: RunTarget): void {
  const vip = VIP;
  const FOREIGN = t.foreign.save;
  let lab: Lab;
  let dir: string;
  let configFile: string;
  let daemon: d.Daemon;
  let addrs: string[];

  const table = (): Promise<string> => vsTable(t.backend, lab.node);
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
    d.waitForSave(lab.node, want, {
      backend: t.backend,
      context: () => `daemon log:\n${daemon.log}`,
    });
  const waitForLog = (pattern: RegExp): Promise<void> => daemon.waitForLog(pattern);

  before(async function () {
    t.check();
    lab = await buildLab({ ...t.lab, backends: 3 });
    daemon = new d.Daemon(lab.node, common);
    addrs = lab.backends.map((b) => b.address);
    for (const b of lab.backends)
      await startEcho(b.ns, { name: b.name, tcpPort: 8080, udpPort: 5353 });
    dir = mkdtempSync(join(t.tmpRoot, 'kube-ipvs-run-'));
    configFile = join(dir, '..', `kube-ipvs-run-${process.pid}.yaml`);
    writeConfig();
    writeFileSync(join(dir, 'service.yaml'), service());
    writeFileSync(join(dir, 'slice.yaml'), slice(addrs));
  });

  after(async function () {
    await daemon?.stop('SIGKILL');
    await closeAllHeld();
    await stopAllEcho();
    await deleteAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (configFile) rmSync(configFile, { force: true });
  });

  it('plan on an empty node prints every operation in save syntax and exits 2', async function () {
    const r = await kubeIpvs(['plan', ...common()]);
    expect(r.code, r.stderr).to.equal(2);
    const lines = r.stdout.trim().split('\n');
    // The address line only where the backend binds addresses (IPVS); iptables matches them.
    const bind = `ip route add local ${vip}/32 dev kube-ipvs0 table local proto static`;
    if (t.bindsAddresses) expect(lines[0]).to.equal(bind);
    else expect(lines).not.to.include(bind);
    expect(lines).to.include(`-A -t ${vip}:80 -s rr`);
    expect(lines).to.include(`-a -u ${vip}:53 -r ${addrs[2]}:5353 -m -w 1`);
    expect(lines).to.have.length(t.bindsAddresses ? 9 : 8);
    expect(await table()).to.equal('');
  });

  it('R2.1 R6.1: run --once programs the kernel, exits 0, and rr answers 2/2/2', async function () {
    const r = await kubeIpvs(['run', '--once', ...common()]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await table()).to.equal(expectedSave(addrs));
    if (t.bindsAddresses) {
      const local = await lab.node.ip(['route', 'show', 'table', 'local', 'dev', 'kube-ipvs0']);
      expect(local).to.include(`local ${vip} proto static scope host`);
    }
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

  it('R1.4 G-18: a removed endpoint stops getting new connections: TCP drains (IPVS) or goes, UDP goes at once', async function () {
    writeFileSync(join(dir, 'slice.yaml'), slice(addrs.slice(1)));
    const r = await kubeIpvs(['plan', ...common()]);
    expect(r.code, r.stderr).to.equal(2);
    // IPVS: the TCP connections of the traffic test linger in TIME_WAIT (InActConn > 0).
    // iptables: established flows keep their conntrack entries; the rules go at once.
    expect(r.stdout.trim().split('\n')).to.deep.equal([
      t.drains
        ? `-e -t ${vip}:80 -r ${addrs[0]}:8080 -m -w 0`
        : `-d -t ${vip}:80 -r ${addrs[0]}:8080`,
      `-d -u ${vip}:53 -r ${addrs[0]}:5353`,
    ]);
    writeFileSync(join(dir, 'slice.yaml'), slice(addrs));
    expect((await kubeIpvs(['plan', ...common()])).code).to.equal(0);
  });

  it('the daemon follows endpoint changes, repairs drift, leaves foreign services, and reloads its config', async function () {
    await t.foreign.add(lab);
    daemon.start();
    await waitForLog(/"kind":"full"/);
    await waitForSave(FOREIGN + expectedSave(addrs));
    // Scale up: a fourth endpoint with no echo server behind it is still programmed.
    const more = [...addrs, '10.244.0.40'];
    writeFileSync(join(dir, 'slice.yaml'), slice(more));
    await waitForSave(FOREIGN + expectedSave(more));
    writeFileSync(join(dir, 'slice.yaml'), slice(addrs));
    await waitForSave(FOREIGN + expectedSave(addrs));
    // Drift: a deleted virtual server and a changed real server are put back within a syncPeriod.
    await t.drift(lab, vip, addrs);
    await waitForSave(FOREIGN + expectedSave(addrs));
    // A config edit changes the scheduler without a restart.
    writeConfig('scheduler: sh\n');
    await waitForSave(FOREIGN + expectedSave(addrs, 'sh'));
    // A broken config changes nothing and is reported.
    writeConfig('scheduler: nope\n');
    await waitForLog(/config rejected/);
    expect(await table()).to.equal(FOREIGN + expectedSave(addrs, 'sh'));
    writeConfig();
    await waitForSave(FOREIGN + expectedSave(addrs));
    await t.foreign.intact(lab);
  });

  it('SIGTERM leaves the kernel as it is; a restart adopts it with no operation', async function () {
    const before = await table();
    expect(await daemon.stop('SIGTERM')).to.equal(0);
    expect(await table()).to.equal(before);
    daemon.start();
    await waitForLog(/"kind":"full"/);
    const first = daemon.log.split('\n').find((l) => l.includes('"kind":"full"')) ?? '';
    expect(first, daemon.log).to.include('"ops":0');
    expect(await table()).to.equal(before);
    expect(await daemon.stop('SIGTERM')).to.equal(0);
  });

  it('cleanup removes what kube-ipvs owns and nothing else', async function () {
    const r = await kubeIpvs(['cleanup', '--config', configFile]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('removed 2 virtual servers');
    expect(await table()).to.equal(FOREIGN);
    await t.cleaned(lab);
    await t.foreign.intact(lab);
  });
}
