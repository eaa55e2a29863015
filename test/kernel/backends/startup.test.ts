// The processes `kube-ipvs run` spawns on its way to the first sync (issue 8: a fork from the
// daemon's heap costs 20-40 ms under UML, on the CPU the sync needs). On a node whose
// modules are loaded and that has no iptables backend leftovers, the start needs neither
// modprobe nor the leftover check's iptables-save: the kernel answered both already
// (/proc/modules, /proc/net/ip{,6}_tables_names, an nf_tables chain dump).
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../harness/exec.js';
import { assertInUml } from '../../harness/in-uml.js';
import { Netns, deleteAllNetns } from '../../harness/netns.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'spawns-child.js');

const MANIFESTS = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  type: ClusterIP
  clusterIP: 10.96.0.10
  ports: [{ name: http, protocol: TCP, port: 80, targetPort: 8080 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: default
  labels: { kubernetes.io/service-name: web }
addressType: IPv4
ports: [{ name: http, protocol: TCP, port: 8080 }]
endpoints: [{ addresses: [10.244.0.11] }, { addresses: [10.244.0.12] }]
`;

describe('kube-ipvs run start-up processes, in the kernel (issue 8)', function () {
  this.timeout(120_000);
  let dir: string;

  before(async function () {
    assertInUml();
    dir = mkdtempSync('/run/kube-ipvs-startup-');
    writeFileSync(join(dir, 'web.yaml'), MANIFESTS);
  });
  after(async function () {
    await deleteAllNetns();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** run --once in a fresh namespace: the processes it spawned, one line each. */
  async function once(label: string): Promise<string[]> {
    const ns = await Netns.create(label);
    await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    const log = join(dir, `${label}.log`);
    writeFileSync(log, '');
    await ns.node(child, [log, 'run', '--once', '--manifests', dir, '--node-name', 'node-a'], {
      timeoutMs: 60_000,
    });
    expect((await ns.exec('ipvsadm', ['-Sn'])).stdout).to.contain('-A -t 10.96.0.10:80 -s rr');
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  }

  it('with the modules loaded and no leftovers: no modprobe, no leftover iptables-save', async function () {
    // The first run loads what the node lacks (ipvsadm loads ip_vs, as on a node where
    // kube-proxy or an earlier run did).
    await run('ipvsadm', ['-Ln']);
    await once('startup-first');
    const spawned = await once('startup-again');
    expect(spawned.filter((l) => l.startsWith('modprobe'))).to.deep.equal([]);
    // The leftover check saved whole tables (no -t); the masquerade rules' saves read nat.
    expect(spawned.filter((l) => /^ip6?tables(-legacy)?-save$/.test(l))).to.deep.equal([]);
    // The processes that do run are seen: the list above is not empty by a blind watch.
    expect(spawned, spawned.join('\n')).to.include('iptables-save -t nat');
  });
});
