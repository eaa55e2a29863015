// `backend: auto` on a kernel whose IPVS modules are gone (DESIGN §6, issue 10): inside UML
// the modules are unloaded and hidden from modprobe, and `kube-ipvs run` against the test
// API server must fall back to the iptables backend loudly (a warning with the reason,
// kube_ipvs_backend{mode="iptables"}, /proxyMode, an Event on the Node) and still serve
// the Service. Once the modules are back, a restart picks IPVS and removes the iptables
// backend's chains.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject, TestApiServer } from '../../fixtures/apiserver/index.js';
import { runClient } from '../../harness/client.js';
import * as d from '../../harness/daemon.js';
import { startEcho, stopAllEcho } from '../../harness/echo.js';
import { hideIpvsModules } from '../../harness/hide-ipvs.js';
import { assertInUml } from '../../harness/in-uml.js';
import { deleteAllNetns } from '../../harness/netns.js';
import { buildLab, type Lab } from '../../harness/topology.js';
import {
  API_NODE,
  connectApiServer,
  createLabNode,
  disconnectApiServer,
} from '../reconcile/api-link.js';

const NODE = 'node-a';
const VIP = '10.96.5.10';
const METRICS_PORT = 10249;

async function get(path: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const r = await fetch(`http://${API_NODE.address}:${METRICS_PORT}${path}`, {
      signal: AbortSignal.timeout(3000),
    });
    return { status: r.status, text: await r.text() };
  } catch {
    return undefined;
  }
}

describe('backend auto on a kernel without IPVS modules falls back to iptables (R2.3)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let api: TestApiServer;
  let dir: string;
  let daemon: d.Daemon;
  let restore: (() => Promise<void>) | undefined;
  const args = () => [
    '--kubeconfig',
    join(dir, 'kubeconfig'),
    '--node-name',
    NODE,
    '--config',
    join(dir, 'config.yaml'),
  ];
  /** Our service chains in the node's nat tables, in either iptables flavour. */
  const serviceChains = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const save of ['iptables-save', 'iptables-legacy-save']) {
      const text = await lab.node.exec(save, ['-t', 'nat']).then(
        (r) => r.stdout,
        () => '',
      );
      out.push(...text.split('\n').filter((l) => /^:KUBE-IPVS-SVC-/.test(l)));
    }
    return out;
  };

  before(async function () {
    assertInUml();
    restore = await hideIpvsModules();
    lab = await buildLab({ backends: 2, ipvs: false });
    for (const b of lab.backends) await startEcho(b.ns, { name: b.name, tcpPort: 8080 });
    api = await connectApiServer(lab);
    dir = mkdtempSync('/run/kube-ipvs-fallback-');
    api.writeKubeconfig(join(dir, 'kubeconfig'));
    d.writeConfig(join(dir, 'config.yaml'), `metricsBindAddress: 0.0.0.0:${METRICS_PORT}\n`);
    createLabNode(api, lab, NODE);
    const service: KubeObject = {
      metadata: { namespace: 'default', name: 'web' },
      spec: {
        type: 'ClusterIP',
        clusterIP: VIP,
        clusterIPs: [VIP],
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
      },
    };
    api.create('services', service);
    api.create('endpointslices', {
      metadata: {
        namespace: 'default',
        name: 'web-1',
        labels: { 'kubernetes.io/service-name': 'web' },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      endpoints: lab.backends.map((b) => ({
        addresses: [b.address],
        conditions: { ready: true },
        nodeName: NODE,
      })),
    });
    daemon = new d.Daemon(lab.node, args);
    daemon.start();
    await daemon.waitForLog(/"kind":"full"/);
  });

  after(async function () {
    await daemon?.stop('SIGKILL');
    await restore?.();
    await disconnectApiServer(api);
    await stopAllEcho();
    await deleteAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('warns with the reason, and says iptables in the metric, /proxyMode and a Node Event', async function () {
    expect(daemon.log).to.match(
      /"level":40,.*"msg":"IPVS cannot be used: the kernel has no IPVS generic netlink family \(modprobe ip_vs: [^"]+\); falling back to the iptables backend"/,
    );
    expect(daemon.log).to.match(
      /"msg":"starting".*"backend":"iptables"|"backend":"iptables".*"msg":"starting"/,
    );
    const mode = await get('/proxyMode');
    expect(mode).to.deep.equal({ status: 200, text: 'iptables' });
    const metrics = (await get('/metrics'))?.text ?? '';
    expect(metrics).to.match(/^kube_ipvs_backend\{mode="iptables"\} 1$/m);
    expect(metrics).not.to.match(/^kube_ipvs_backend\{mode="ipvs"\} 1$/m);
    let events: { reason?: string; regarding?: { kind?: string; name?: string }; note?: string }[] =
      [];
    await d.waitFor('the BackendFallback Event', async () => {
      events = api.list('events.k8s.io/events') as typeof events;
      return events.some((e) => e.reason === 'BackendFallback');
    });
    const ev = events.find((e) => e.reason === 'BackendFallback');
    expect(ev?.regarding).to.deep.include({ kind: 'Node', name: NODE });
    expect(ev?.note).to.match(
      /^IPVS cannot be used: the kernel has no IPVS generic netlink family/,
    );
  });

  it('serves the Service through iptables: rr over both backends', async function () {
    expect(await serviceChains()).to.have.length(1);
    const r = await runClient(lab.client, { proto: 'tcp', target: VIP, port: 80, count: 4 });
    expect(r.errors).to.deep.equal({});
    expect(r.byBackend).to.deep.equal(Object.fromEntries(lab.backends.map((b) => [b.name, 2])));
  });

  it('with the modules back, a restart picks IPVS and removes the iptables chains', async function () {
    expect(await daemon.stop('SIGTERM')).to.equal(0);
    await restore?.();
    restore = undefined;
    const once = await d.kubeIpvs(lab.node, ['run', '--once', ...args()]);
    expect(once.code, once.stderr).to.equal(0);
    expect(once.stderr).to.match(
      /"msg":"starting".*"backend":"ipvs"|"backend":"ipvs".*"msg":"starting"/,
    );
    expect(await serviceChains()).to.deep.equal([]);
    expect(await d.ipvsadm(lab.node, ['-Sn'])).to.contain(`-A -t ${VIP}:80 -s rr`);
    const r = await runClient(lab.client, { proto: 'tcp', target: VIP, port: 80, count: 4 });
    expect(r.errors).to.deep.equal({});
    expect(Object.values(r.byBackend)).to.deep.equal([2, 2]);
  });
});
