// Kubernetes Events and lvsadm --k8s with `kube-ipvs run --kubeconfig` in the real kernel
// inside UML: the daemon in the lab's node namespace watches the test API server over a
// veth pair, and what it must tell a cluster admin shows up as events.k8s.io/v1 Events
// there: an invalid scheduler annotation, skipped Service and endpoint input, and a
// refusal by the kernel (a scheduler whose module cannot be loaded). Repeats count up one
// Event's series instead of creating more. lvsadm --k8s names each virtual server's
// Service port from the owner map the daemon writes.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestApiServer, type KubeObject } from '../../fixtures/apiserver/index.js';
import { run } from '../../harness/exec.js';
import { assertInUml } from '../../harness/in-uml.js';
import { deleteAllNetns } from '../../harness/netns.js';
import { buildLab, type Lab } from '../../harness/topology.js';
import { connectApiServer, createLabNode, disconnectApiServer } from './api-link.js';
import * as d from '../../harness/daemon.js';

const NODE = 'node-a';
const EVENTS = 'events.k8s.io/events';
const MODPROBE_SYSCTL = '/proc/sys/kernel/modprobe';
const lvsadmBin = join(dirname(fileURLToPath(import.meta.url)), '../../../../bin/lvsadm.js');

interface Ev extends KubeObject {
  reason?: string;
  note?: string;
  type?: string;
  action?: string;
  reportingController?: string;
  reportingInstance?: string;
  regarding?: { kind?: string; name?: string; namespace?: string; uid?: string };
  related?: { kind?: string; name?: string; uid?: string };
  series?: { count: number; lastObservedTime: string };
}

function service(
  name: string,
  vip: string,
  options: { scheduler?: string; ports?: Array<Record<string, unknown>> } = {},
): KubeObject {
  return {
    metadata: {
      namespace: 'default',
      name,
      ...(options.scheduler
        ? { annotations: { 'kube-ipvs.io/scheduler': options.scheduler } }
        : {}),
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: vip,
      clusterIPs: [vip],
      ports: options.ports ?? [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
    },
  };
}

function slice(svc: string, addresses: readonly string[]): KubeObject {
  return {
    metadata: {
      namespace: 'default',
      name: `${svc}-1`,
      labels: { 'kubernetes.io/service-name': svc },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: addresses.map((a) => ({
      addresses: [a],
      conditions: { ready: true },
      nodeName: NODE,
    })),
  };
}

/** Polls `get` until `ok` holds (bounded: 30 s, 100 ms apart), then returns the value. */
async function until<T>(
  what: string,
  get: () => T | Promise<T>,
  ok: (v: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + 30_000;
  let v = await get();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    v = await get();
  }
  if (!ok(v)) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v, null, 1)}`);
  return v;
}

describe('kube-ipvs run: Kubernetes Events and lvsadm --k8s, in the kernel (issue 9)', function () {
  this.timeout(240_000);
  let lab: Lab;
  let api: TestApiServer;
  let dir: string;
  let runDir: string;
  let configFile: string;
  let kubeconfig: string;
  let daemon: d.Daemon;
  let savedModprobe: string | undefined;
  const savedRunDir = process.env.KUBE_IPVS_RUN_DIR;

  const events = (): Ev[] => api.list(EVENTS) as Ev[];
  const about = (name: string, reason: string): Ev[] =>
    events().filter((e) => e.regarding?.name === name && e.reason === reason);
  const uidOf = (name: string): string | undefined =>
    api.get('services', 'default', name)?.metadata?.uid;
  const lvsadm = async (args: string[], env: Record<string, string>) => {
    try {
      const r = await lab.node.exec(process.execPath, [lvsadmBin, ...args], {
        env: { ...process.env, ...env },
        timeoutMs: 20_000,
      });
      return { code: 0, ...r };
    } catch (e) {
      const err = e as { exitCode?: number; stdout?: string; stderr?: string };
      if (typeof err.exitCode !== 'number') throw e;
      return { code: err.exitCode, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  };

  before(async function () {
    assertInUml();
    lab = await buildLab({ backends: 1 });
    api = await connectApiServer(lab);
    // /run is a tmpfs inside UML.
    dir = mkdtempSync('/run/kube-ipvs-events-');
    runDir = join(dir, 'run');
    // The daemon (a child of this process) writes its owner map here, not in /run/kube-ipvs.
    process.env.KUBE_IPVS_RUN_DIR = runDir;
    configFile = join(dir, 'config.yaml');
    kubeconfig = api.writeKubeconfig(join(dir, 'kubeconfig'));
    d.writeConfig(configFile);
    createLabNode(api, lab, NODE);
    daemon = new d.Daemon(lab.node, () => [
      '--kubeconfig',
      kubeconfig,
      '--node-name',
      NODE,
      '--config',
      configFile,
    ]);
    daemon.start();
    await daemon.waitForLog(/"kind":"full"/);
  });

  after(async function () {
    if (savedModprobe !== undefined) writeFileSync(MODPROBE_SYSCTL, savedModprobe);
    await daemon?.stop('SIGKILL');
    await disconnectApiServer(api);
    await deleteAllNetns();
    if (savedRunDir === undefined) delete process.env.KUBE_IPVS_RUN_DIR;
    else process.env.KUBE_IPVS_RUN_DIR = savedRunDir;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an invalid kube-ipvs.io/scheduler annotation: one Warning Event on the Service, a repeat counted in its series', async function () {
    const backend = lab.backends[0]?.address ?? '';
    api.create('services', service('anno', '10.96.1.10', { scheduler: 'bogus' }));
    api.create('endpointslices', slice('anno', [backend]));
    // The configured scheduler is used meanwhile.
    await d.waitForSave(
      lab.node,
      `-A -t 10.96.1.10:80 -s rr\n-a -t 10.96.1.10:80 -r ${backend}:8080 -m -w 1\n`,
    );
    const [first] = await until(
      'the InvalidSchedulerAnnotation Event',
      () => about('anno', 'InvalidSchedulerAnnotation'),
      (l) => l.length === 1,
    );
    expect(first).to.deep.include({
      type: 'Warning',
      action: 'Translate',
      reportingController: 'kube-ipvs.io/kube-ipvs',
      reportingInstance: NODE,
    });
    expect(first?.regarding).to.deep.include({
      kind: 'Service',
      namespace: 'default',
      name: 'anno',
      uid: uidOf('anno'),
    });
    expect(first?.note).to.contain('"bogus" is not an IPVS scheduler');
    expect(first?.series).to.equal(undefined);
    // Fixed, then broken the same way again: the same Event, series.count 2.
    api.update('services', service('anno', '10.96.1.10', { scheduler: 'sh' }));
    await d.waitForSave(
      lab.node,
      `-A -t 10.96.1.10:80 -s sh\n-a -t 10.96.1.10:80 -r ${backend}:8080 -m -w 1\n`,
    );
    api.update('services', service('anno', '10.96.1.10', { scheduler: 'bogus' }));
    await d.waitForSave(
      lab.node,
      `-A -t 10.96.1.10:80 -s rr\n-a -t 10.96.1.10:80 -r ${backend}:8080 -m -w 1\n`,
    );
    const repeated = await until(
      'series.count 2',
      () => about('anno', 'InvalidSchedulerAnnotation'),
      (l) => l[0]?.series?.count === 2,
    );
    expect(repeated).to.have.length(1);
    expect(repeated[0]?.metadata?.name).to.equal(first?.metadata?.name);
    const methods = api.requests
      .filter((q) => q.path.includes(`/events/${first?.metadata?.name ?? '-'}`))
      .map((q) => `${q.method} ${q.contentType}`);
    expect(methods).to.deep.equal(['PATCH application/strategic-merge-patch+json']);
    api.delete('services', 'default', 'anno');
    api.delete('endpointslices', 'default', 'anno-1');
    await d.waitForSave(lab.node, '');
  });

  it('skipped input: a Service port and an endpoint left out, each an Event on the Service (the slice as related)', async function () {
    api.create(
      'services',
      service('skip', '10.96.1.20', {
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
          { name: 'ping', protocol: 'ICMP', port: 7, targetPort: 7 },
        ],
      }),
    );
    api.create('endpointslices', slice('skip', ['127.0.0.1', lab.backends[0]?.address ?? '']));
    const svc = await until(
      'a ServiceSkipped Event',
      () => about('skip', 'ServiceSkipped'),
      (l) => l.length === 1,
    );
    expect(svc[0]?.note).to.contain('spec.ports[1].protocol');
    expect(svc[0]?.regarding?.uid).to.equal(uidOf('skip'));
    const ep = await until(
      'an EndpointSliceSkipped Event',
      () => about('skip', 'EndpointSliceSkipped'),
      (l) => l.length === 1,
    );
    expect(ep[0]?.note).to.contain('127.0.0.1');
    expect(ep[0]?.related).to.deep.include({
      kind: 'EndpointSlice',
      name: 'skip-1',
      uid: api.get('endpointslices', 'default', 'skip-1')?.metadata?.uid,
    });
    // The rest is programmed.
    await d.waitForSave(
      lab.node,
      `-A -t 10.96.1.20:80 -s rr\n-a -t 10.96.1.20:80 -r ${lab.backends[0]?.address ?? ''}:8080 -m -w 1\n`,
    );
    api.delete('services', 'default', 'skip');
    api.delete('endpointslices', 'default', 'skip-1');
    await d.waitForSave(lab.node, '');
  });

  it('a kernel refusal (scheduler mh, its module unloadable): one KernelRejected Event on the Service, retries counted in its series', async function () {
    // The kernel loads a scheduler's module itself (request_module) when a virtual server
    // asks for it: with ip_vs_mh unloaded and the kernel's modprobe helper pointed at
    // /bin/false, IPVS refuses the virtual server (ENOENT), as on a node without the module.
    await run('modprobe', ['-r', 'ip_vs_mh']).catch(() => undefined);
    const loaded = readFileSync('/proc/modules', 'utf8')
      .split('\n')
      .some((l) => l.startsWith('ip_vs_mh '));
    expect(loaded, 'ip_vs_mh is in use and cannot be unloaded').to.equal(false);
    savedModprobe = readFileSync(MODPROBE_SYSCTL, 'utf8');
    writeFileSync(MODPROBE_SYSCTL, '/bin/false\n');
    const mark = daemon.mark();
    api.create('services', service('reject', '10.96.1.30', { scheduler: 'mh' }));
    await daemon.waitForLog(/the kernel refused addService TCP\/10\.96\.1\.30:80/, mark);
    const [ev] = await until(
      'a KernelRejected Event',
      () => about('reject', 'KernelRejected'),
      (l) => l.length === 1,
    );
    expect(ev).to.deep.include({ type: 'Warning', action: 'Sync' });
    expect(ev?.regarding?.uid).to.equal(uidOf('reject'));
    expect(ev?.note).to.match(
      /^the kernel refused addService TCP\/10\.96\.1\.30:80: .+; retrying with backoff$/,
    );
    // The retries (1 s, 2 s, … and each full resync) fail the same way: counted, not new Events.
    const counted = await until(
      'series.count >= 3',
      () => about('reject', 'KernelRejected'),
      (l) => (l[0]?.series?.count ?? 0) >= 3,
    );
    expect(counted).to.have.length(1);
    expect(await d.ipvsadm(lab.node, ['-Sn'])).not.to.contain('10.96.1.30');
    // The module loadable again: the next retry programs it.
    writeFileSync(MODPROBE_SYSCTL, savedModprobe);
    savedModprobe = undefined;
    await d.waitForSave(lab.node, '-A -t 10.96.1.30:80 -s mh\n');
    api.delete('services', 'default', 'reject');
    await d.waitForSave(lab.node, '');
  });

  it('lvsadm -Ln --k8s with the daemon running: owners appended, otherwise ipvsadm -Ln byte for byte', async function () {
    const backend = lab.backends[0]?.address ?? '';
    api.create('services', service('web', '10.96.1.40'));
    api.create('endpointslices', slice('web', [backend]));
    api.create(
      'services',
      service('dns', '10.96.1.41', { ports: [{ protocol: 'UDP', port: 53, targetPort: 5353 }] }),
    );
    await d.waitForSave(
      lab.node,
      `-A -t 10.96.1.40:80 -s rr\n-a -t 10.96.1.40:80 -r ${backend}:8080 -m -w 1\n-A -u 10.96.1.41:53 -s rr\n`,
      { canonical: true },
    );
    // A virtual server kube-ipvs does not own.
    await d.ipvsadm(lab.node, ['-A', '-t', '192.0.2.50:9999', '-s', 'wlc']);
    const env = { KUBE_IPVS_RUN_DIR: runDir };
    const r = await until(
      'owners in lvsadm --k8s',
      () => lvsadm(['-Ln', '--k8s'], env),
      (x) => x.stdout.includes('default/web:http') && x.stdout.includes('default/dns:53'),
    );
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal('');
    const lines = r.stdout.split('\n');
    expect(lines).to.include('TCP  10.96.1.40:80 rr  default/web:http');
    expect(lines).to.include('UDP  10.96.1.41:53 rr  default/dns:53');
    expect(lines).to.include('TCP  192.0.2.50:9999 wlc  <none>');
    const plain = await d.ipvsadm(lab.node, ['-Ln']);
    expect(r.stdout.replace(/ {2}(\S+\/\S+|<none>)$/gm, '')).to.equal(plain);
    const stats = await lvsadm(['-Ln', '--stats', '-t', '10.96.1.40:80', '--k8s'], env);
    expect(stats.stdout.split('\n')[2]).to.match(
      /^TCP {2}10\.96\.1\.40:80 +\d+ +\d+ +\d+ +\d+ +\d+ {2}default\/web:http$/,
    );
    const owners = JSON.parse(readFileSync(join(runDir, 'owners.json'), 'utf8')) as {
      node: string;
    };
    expect(owners.node).to.equal(NODE);

    // Without the owner map: the plain listing, one line on stderr, exit 0.
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const none = await lvsadm(['-Ln', '--k8s'], { KUBE_IPVS_RUN_DIR: empty });
    expect(none).to.deep.equal({
      code: 0,
      stdout: await d.ipvsadm(lab.node, ['-Ln']),
      stderr: `lvsadm: --k8s: no owners shown: ${empty}/owners.json does not exist (kube-ipvs run writes it on this node after a sync)\n`,
    });
    await d.ipvsadm(lab.node, ['-D', '-t', '192.0.2.50:9999']);
  });

  it('with --manifests, Events go to the log only', async function () {
    await daemon.stop('SIGTERM');
    const manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    writeFileSync(
      join(manifests, 'svc.yaml'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        ...service('local', '10.96.1.50', { scheduler: 'bogus' }),
      }),
    );
    const before = api.requests.length;
    const once = await d.kubeIpvs(lab.node, [
      'run',
      '--once',
      '--manifests',
      manifests,
      '--node-name',
      NODE,
      '--config',
      configFile,
    ]);
    expect(once.code, once.stderr).to.equal(0);
    const line = once.stderr.split('\n').find((l) => l.includes('"msg":"event"'));
    expect(line, once.stderr).to.be.a('string');
    expect(JSON.parse(line ?? '{}')).to.deep.include({
      type: 'Warning',
      reason: 'InvalidSchedulerAnnotation',
      regarding: 'Service default/local',
      count: 1,
    });
    expect(api.requests.length).to.equal(before);
  });
});
