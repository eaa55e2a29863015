// The serving layer of `kube-ipvs run` in the real kernel inside UML: the daemon in the lab's
// node namespace watches the test API server, and this process, in UML's root namespace,
// reads the daemon's /metrics, /proxyMode, /healthz and health-check node ports over the
// API server's veth link. Every wait polls a real condition (bounded).
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject, TestApiServer } from '../../fixtures/apiserver/index.js';
import { assertInUml } from '../../harness/in-uml.js';
import { deleteAllNetns } from '../../harness/netns.js';
import { buildLab, type Lab } from '../../harness/topology.js';
import {
  API_NODE,
  connectApiServer,
  createLabNode,
  disconnectApiServer,
} from '../reconcile/api-link.js';
import * as d from '../../harness/daemon.js';

const NODE = 'node-a';
const SYNC_PERIOD_MS = 2000; // daemon.writeConfig's syncPeriod
const HC_PORT = 32122;
const TRIGGER = 'endpoints.kubernetes.io/last-change-trigger-time';

interface Reply {
  status: number;
  text: string;
}

/** GET from the daemon's namespace over the API link; undefined when nothing listens. */
async function get(port: number, path: string): Promise<Reply | undefined> {
  try {
    const r = await fetch(`http://${API_NODE.address}:${port}${path}`, {
      signal: AbortSignal.timeout(3000),
    });
    return { status: r.status, text: await r.text() };
  } catch {
    return undefined;
  }
}

/** Polls until `ok` holds for a reply (bounded: `tries` × 100 ms); returns that reply. */
async function pollUntil(
  what: string,
  port: number,
  path: string,
  ok: (r: Reply | undefined) => boolean,
  tries = 150,
): Promise<Reply | undefined> {
  let last: Reply | undefined;
  for (let i = 0; i < tries; i++) {
    last = await get(port, path);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect.fail(`${what}: last reply ${JSON.stringify(last)}`);
}

/** One sample of the Prometheus text: the value of `name` with exactly these labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const head = want === '' ? `${name} ` : `${name}{${want}} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? 0 : Number(line.slice(head.length));
}

/** Virtual and real servers as `ipvsadm -Ln` lists them. */
function countListing(listing: string): { virtualServers: number; realServers: number } {
  const lines = listing.split('\n');
  return {
    virtualServers: lines.filter((l) => /^(TCP|UDP|SCTP)\s/.test(l)).length,
    realServers: lines.filter((l) => /^\s+->\s/.test(l) && !l.includes('RemoteAddress')).length,
  };
}

function service(name: string, vip: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { namespace: 'default', name },
    spec: {
      type: 'ClusterIP',
      clusterIP: vip,
      clusterIPs: [vip],
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
      ...extra,
    },
  };
}

function slice(
  svc: string,
  endpoints: readonly { address: string; node: string }[],
  trigger?: string,
): KubeObject {
  return {
    metadata: {
      namespace: 'default',
      name: `${svc}-1`,
      labels: { 'kubernetes.io/service-name': svc },
      ...(trigger ? { annotations: { [TRIGGER]: trigger } } : {}),
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.address],
      conditions: { ready: true },
      nodeName: e.node,
    })),
  };
}

describe('kube-ipvs run serves metrics, health and health-check node ports, in the kernel (R10.6 R17.3)', function () {
  this.timeout(180_000);
  let lab: Lab;
  let api: TestApiServer;
  let dir: string;
  let daemon: d.Daemon;
  let addr: string[];
  const on = (node: string, ...addresses: string[]) =>
    addresses.map((address) => ({ address, node }));

  before(async function () {
    assertInUml();
    lab = await buildLab({ backends: 3 });
    addr = lab.backends.map((b) => b.address);
    api = await connectApiServer(lab);
    dir = mkdtempSync('/run/kube-ipvs-serve-');
    const configFile = join(dir, 'config.yaml');
    const kubeconfig = api.writeKubeconfig(join(dir, 'kubeconfig'));
    // /metrics on every address, so this process reaches it over the API link.
    d.writeConfig(configFile, 'metricsBindAddress: 0.0.0.0:10249\n');
    createLabNode(api, lab, NODE);
    daemon = new d.Daemon(lab.node, () => [
      '--kubeconfig',
      kubeconfig,
      '--node-name',
      NODE,
      '--config',
      configFile,
    ]);
  });

  after(async function () {
    await daemon?.stop('SIGKILL');
    await disconnectApiServer(api);
    await deleteAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a healthz port in use is logged once and retried while the sync goes on; the daemon takes it once free', async function () {
    // Another process holds 10256 in the node's namespace, answering 418.
    const blocker = lab.node.spawn(
      process.execPath,
      [
        '-e',
        "require('http').createServer((q, s) => s.writeHead(418).end()).listen(10256, '0.0.0.0')",
      ],
      { stdio: 'ignore' },
    );
    try {
      await pollUntil('the blocker to listen', 10256, '/', (r) => r?.status === 418);
      api.create('services', service('web', '10.96.0.10'));
      api.create('endpointslices', slice('web', on(NODE, ...addr.slice(0, 2))));
      daemon.start();
      await d.waitForSave(
        lab.node,
        [
          '-A -t 10.96.0.10:80 -s rr',
          ...addr.slice(0, 2).map((a) => `-a -t 10.96.0.10:80 -r ${a}:8080 -m -w 1`),
        ].join('\n') + '\n',
        { canonical: true, context: () => daemon.log.slice(-3000) },
      );
      const failures = async (): Promise<number> =>
        sample((await get(10249, '/metrics'))?.text ?? '', 'kube_ipvs_bind_failures_total', {
          server: 'healthz',
        });
      for (let i = 0; i < 100 && (await failures()) < 2; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(await failures(), daemon.log.slice(-3000)).to.be.at.least(2);
      const warned = daemon.log
        .split('\n')
        .filter((l) => l.includes('"level":40') && l.includes('cannot listen on 0.0.0.0:10256'));
      expect(warned, daemon.log.slice(-3000)).to.have.length(1);
      expect(warned[0]).to.include('"error":"EADDRINUSE"');
    } finally {
      const gone = new Promise((r) => blocker.once('exit', r));
      blocker.kill('SIGKILL');
      await gone;
    }
    await pollUntil(
      'healthz 200 once the port is free',
      10256,
      '/healthz',
      (r) => r?.status === 200,
    );
  });

  it('R17.3: /proxyMode prints ipvs; the gauges equal ipvsadm -Ln and the op counters move by the delta', async function () {
    await pollUntil(
      'healthz 200 after the first sync',
      10256,
      '/healthz',
      (r) => r?.status === 200,
    );
    expect(await get(10249, '/proxyMode')).to.deep.equal({ status: 200, text: 'ipvs' });

    const scrape = async (): Promise<string> => (await get(10249, '/metrics'))?.text ?? '';
    const matches = async (): Promise<string> => {
      // The gauges are set after each sync; poll until they agree with the kernel.
      for (let i = 0; i < 100; i++) {
        const text = await scrape();
        const k = countListing(await d.ipvsadm(lab.node, ['-Ln']));
        if (
          sample(text, 'kube_ipvs_virtual_servers') === k.virtualServers &&
          sample(text, 'kube_ipvs_real_servers') === k.realServers
        )
          return text;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect.fail(`gauges never matched ipvsadm -Ln:\n${await scrape()}`);
    };
    const before = await matches();
    expect(sample(before, 'kube_ipvs_virtual_servers')).to.equal(1);
    expect(sample(before, 'kube_ipvs_real_servers')).to.equal(2);
    expect(sample(before, 'kube_ipvs_backend', { mode: 'ipvs' })).to.equal(1);
    expect(sample(before, 'kube_ipvs_last_successful_sync_timestamp_seconds')).to.be.above(0);
    expect(before).to.match(/^process_resident_memory_bytes \d+/m);

    // One endpoint more, with its trigger time: one addDestination, one latency sample.
    const op = { operation: 'addDestination', result: 'ok' };
    const hist = 'kube_ipvs_network_programming_duration_seconds';
    const changed = new Date().toISOString();
    api.update('endpointslices', slice('web', on(NODE, ...addr), changed));
    await d.waitForSave(
      lab.node,
      [
        '-A -t 10.96.0.10:80 -s rr',
        ...addr.map((a) => `-a -t 10.96.0.10:80 -r ${a}:8080 -m -w 1`),
      ].join('\n') + '\n',
      { canonical: true, context: () => daemon.log.slice(-3000) },
    );
    const after = await matches();
    expect(sample(after, 'kube_ipvs_real_servers')).to.equal(3);
    expect(
      sample(after, 'kube_ipvs_sync_operations_total', op) -
        sample(before, 'kube_ipvs_sync_operations_total', op),
    ).to.equal(1);
    expect(sample(after, `${hist}_count`) - sample(before, `${hist}_count`)).to.equal(1);
    const latency = sample(after, `${hist}_sum`) - sample(before, `${hist}_sum`);
    expect(latency).to.be.above(0).and.below(10);
  });

  it('R10.6: the health-check node port answers 200 with a local endpoint, 503 without, following the endpoint, and closes with the Service', async function () {
    api.create(
      'services',
      service('lb', '10.96.0.20', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: HC_PORT,
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
      }),
    );
    api.create('endpointslices', slice('lb', on(NODE, addr[0] as string)));
    const up = await pollUntil(
      '200 with one local endpoint',
      HC_PORT,
      '/healthz',
      (r) => r?.status === 200,
    );
    expect(JSON.parse(up?.text ?? '')).to.deep.equal({
      service: { namespace: 'default', name: 'lb' },
      localEndpoints: 1,
      serviceProxyHealthy: true,
    });
    // The endpoint moves to another node: none here.
    api.update('endpointslices', slice('lb', on('node-b', addr[0] as string)));
    const none = await pollUntil(
      '503 with no local endpoint',
      HC_PORT,
      '/healthz',
      (r) => r?.status === 503,
    );
    expect(JSON.parse(none?.text ?? '').localEndpoints).to.equal(0);
    // Two here again.
    api.update('endpointslices', slice('lb', on(NODE, addr[1] as string, addr[2] as string)));
    const two = await pollUntil('200 with two', HC_PORT, '/', (r) => r?.status === 200);
    expect(JSON.parse(two?.text ?? '').localEndpoints).to.equal(2);
    // The node is being drained by the autoscaler: 503 on the port and on /healthz.
    const node = api.get('nodes', '', NODE) as KubeObject;
    api.update('nodes', {
      ...node,
      spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] },
    });
    await pollUntil('503 while draining', HC_PORT, '/', (r) => r?.status === 503);
    const hz = await pollUntil(
      'healthz 503 while draining',
      10256,
      '/healthz',
      (r) => r?.status === 503,
    );
    expect(JSON.parse(hz?.text ?? '').nodeEligible).to.equal(false);
    api.update('nodes', { ...node, spec: {} });
    await pollUntil('200 after the taint went', HC_PORT, '/', (r) => r?.status === 200);
    await pollUntil('healthz 200 again', 10256, '/healthz', (r) => r?.status === 200);
    // Patched back to Cluster (the API clears the port): the listener closes.
    api.update(
      'services',
      service('lb', '10.96.0.20', {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Cluster',
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
      }),
    );
    await pollUntil('the port to close', HC_PORT, '/', (r) => r === undefined);
  });

  it('/healthz turns 503 when the API server stops answering for more than 2 × syncPeriod, /livez stays 200, and /healthz is 200 again once it answers', async function () {
    await pollUntil('healthz 200', 10256, '/healthz', (r) => r?.status === 200);
    const stopped = Date.now();
    api.stopAnswering();
    try {
      await pollUntil('healthz 503', 10256, '/healthz', (r) => r?.status === 503, 200);
      const after = Date.now() - stopped;
      // The last successful sync came at most one syncPeriod before the stop (a full resync
      // runs every syncPeriod), so 503 comes no sooner than one syncPeriod after it, and no
      // later than 2 × syncPeriod plus the grace (syncPeriod / 2) and a poll.
      expect(after).to.be.at.least(SYNC_PERIOD_MS);
      expect(after).to.be.below(2.5 * SYNC_PERIOD_MS + 2000);
      const live = await get(10256, '/livez');
      expect(live?.status, live?.text).to.equal(200);
    } finally {
      api.resumeAnswering();
    }
    const back = Date.now();
    await pollUntil('healthz 200 again', 10256, '/healthz', (r) => r?.status === 200);
    // Relist, watch, then the next sync (full every syncPeriod) counts.
    expect(Date.now() - back).to.be.below(SYNC_PERIOD_MS + 5000);
  });
});
