// 1 000 Services with their EndpointSlices through the test API server, the real
// client-node informers and the real translate. The expectation is computed from the
// parameters the objects were built from, not by the code under test.
import { expect } from 'chai';
import { TestApiServer, type KubeObject } from '../../fixtures/apiserver/index.js';
import { KubernetesSource, loadKubeConfig } from '../../../lib/sources/kubernetes.js';
import { modelStore, type ModelStore } from '../../../lib/sources/model-store.js';
import { defaultConfig } from '../../../lib/config/schema.js';
import { waitFor } from './helpers.js';

const NODE_IP = '192.168.10.11';
const N = 1000;

interface Spec {
  ns: string;
  name: string;
  kind: 'http' | 'udp' | 'nodeport' | 'affinity';
  vip: string;
  /** Endpoint addresses by slice; readiness per address. */
  slices: Array<Array<{ ip: string; ready: boolean }>>;
}

function ip(a: number, i: number): string {
  return `10.${a}.${i >> 8}.${i & 255}`;
}

function specFor(i: number, generation = 0): Spec {
  const kinds = ['http', 'udp', 'nodeport', 'affinity'] as const;
  const kind = kinds[i % 4] ?? 'http';
  const eps = (k: number, ready: boolean) => ({ ip: ip(200 + k + generation * 10, i), ready });
  const slices =
    kind === 'udp'
      ? [[eps(0, true)], [eps(1, true), eps(2, false)]]
      : [[eps(0, true), eps(1, true), eps(2, true), eps(3, false)]];
  return { ns: `ns${i % 10}`, name: `svc-${i}`, kind, vip: ip(100, i), slices };
}

function nodePort(i: number): number {
  return 30000 + (i % 2000);
}

function affinity(i: number): number {
  return 100 + (i % 50);
}

function serviceObject(i: number, s: Spec): KubeObject {
  const port =
    s.kind === 'udp'
      ? { port: 53, targetPort: 5353, protocol: 'UDP' }
      : {
          name: 'http',
          port: 80,
          targetPort: 'web',
          protocol: 'TCP',
          ...(s.kind === 'nodeport' ? { nodePort: nodePort(i) } : {}),
        };
  return {
    metadata: { namespace: s.ns, name: s.name },
    spec: {
      type: s.kind === 'nodeport' ? 'NodePort' : 'ClusterIP',
      clusterIP: s.vip,
      clusterIPs: [s.vip],
      ports: [port],
      ...(s.kind === 'affinity'
        ? {
            sessionAffinity: 'ClientIP',
            sessionAffinityConfig: { clientIP: { timeoutSeconds: affinity(i) } },
          }
        : {}),
    },
  };
}

function sliceObjects(s: Spec): KubeObject[] {
  return s.slices.map((eps, j) => ({
    metadata: {
      namespace: s.ns,
      name: `${s.name}-${j}`,
      labels: { 'kubernetes.io/service-name': s.name },
    },
    addressType: 'IPv4',
    ports:
      s.kind === 'udp'
        ? [{ port: 5353, protocol: 'UDP' }]
        : [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready } })),
  }));
}

/** key → "scheduler persistence rs,rs" straight from the specs. */
function expectation(specs: Map<number, Spec>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, s] of specs) {
    const ready = s.slices
      .flat()
      .filter((e) => e.ready)
      .map((e) => e.ip);
    const sortNum = (a: string, b: string) => {
      const pa = a.split('.').map(Number);
      const pb = b.split('.').map(Number);
      for (let k = 0; k < 4; k++) if (pa[k] !== pb[k]) return (pa[k] ?? 0) - (pb[k] ?? 0);
      return 0;
    };
    const port = s.kind === 'udp' ? 5353 : 8080;
    const rs = ready
      .sort(sortNum)
      .map((a) => `${a}:${port}`)
      .join(',');
    const persist = s.kind === 'affinity' ? affinity(i) : 0;
    if (s.kind === 'udp') out.set(`UDP/${s.vip}:53`, `rr ${persist} ${rs}`);
    else out.set(`TCP/${s.vip}:80`, `rr ${persist} ${rs}`);
    if (s.kind === 'nodeport') out.set(`TCP/${NODE_IP}:${nodePort(i)}`, `rr 0 ${rs}`);
  }
  return out;
}

function viewOf(
  entries: Iterable<
    [
      string,
      {
        virtualServers: readonly {
          key: string;
          scheduler: string;
          persistenceTimeout: number;
          realServers: readonly { address: string; port: number }[];
        }[];
      },
    ]
  >,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [, d] of entries) {
    for (const vs of d.virtualServers) {
      out.set(
        vs.key,
        `${vs.scheduler} ${vs.persistenceTimeout} ${vs.realServers.map((r) => `${r.address}:${r.port}`).join(',')}`,
      );
    }
  }
  return out;
}

function sorted(m: Map<string, string>): Array<[string, string]> {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
}

describe('sources at scale: 1 000 Services through the API server (R2.4, R1.2, R7.3)', function () {
  this.timeout(120000);
  let api: TestApiServer;
  let source: KubernetesSource | undefined;

  afterEach(async () => {
    await source?.stop();
    await api?.close();
  });

  it('desired state equals the expectation, after the initial list and after churn', async () => {
    api = await TestApiServer.start();
    const specs = new Map<number, Spec>();
    api.create('nodes', {
      metadata: { name: 'node-a' },
      status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] },
    });
    // Half exist before the informers start (initial list), half arrive as watch events.
    const createRange = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const s = specFor(i);
        specs.set(i, s);
        api.create('services', serviceObject(i, s));
        for (const sl of sliceObjects(s)) api.create('endpointslices', sl);
      }
    };
    createRange(0, N / 2);
    const store: ModelStore = modelStore({ name: 'node-a', addresses: [NODE_IP] }, defaultConfig());
    const applied = new Map<string, Map<string, string>>();
    const dirtySeen = new Set<string>();
    const drain = () => {
      const dirty = store.takeDirty();
      for (const k of dirty) dirtySeen.add(k);
      for (const [key, d] of store.desired(dirty)) {
        if (d.present) applied.set(key, viewOf([[key, d]]));
        else applied.delete(key);
      }
    };
    const appliedView = () => {
      const m = new Map<string, string>();
      for (const v of applied.values()) for (const [k, x] of v) m.set(k, x);
      return m;
    };
    source = new KubernetesSource({
      kubeConfig: loadKubeConfig(api.writeKubeconfig()),
      nodeName: 'node-a',
      sink: store,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    const t0 = Date.now();
    source.start();
    await source.waitForSync(30000);
    createRange(N / 2, N);
    await waitFor(
      'all services and slices',
      () => store.counts.services === N && store.counts.slices === N + N / 4,
      30000,
    );
    const syncMs = Date.now() - t0;
    drain();
    let want = expectation(specs);
    expect(want.size).to.equal(N + N / 4);
    expect(sorted(appliedView())).to.deep.equal(sorted(want));
    expect(sorted(viewOf(store.desiredAll()))).to.deep.equal(sorted(want));

    // Churn: new endpoints for 200 services, 100 deleted, one watch drop with expired history.
    const translationsBefore = store.translations;
    dirtySeen.clear();
    const changed = new Set<string>();
    let sliceEvents = 0;
    for (let i = 0; i < 200; i++) {
      const old = specFor(i);
      changed.add(`${old.ns}/${old.name}`);
      const s = specFor(i, 1);
      specs.set(i, s);
      for (const sl of sliceObjects(s)) {
        api.update('endpointslices', sl);
        sliceEvents++;
      }
    }
    api.dropWatches();
    for (let i = 900; i < 1000; i++) {
      const s = specFor(i);
      changed.add(`${s.ns}/${s.name}`);
      specs.delete(i);
      api.delete('services', s.ns, s.name);
      for (let j = 0; j < s.slices.length; j++) {
        api.delete('endpointslices', s.ns, `${s.name}-${j}`);
        sliceEvents++;
      }
    }
    api.expireHistory();
    want = expectation(specs);
    await waitFor(
      'churn applied',
      () => {
        drain();
        return JSON.stringify(sorted(appliedView())) === JSON.stringify(sorted(want));
      },
      30000,
    );
    const churnTranslations = store.translations - translationsBefore;
    expect(sorted(viewOf(store.desiredAll()))).to.deep.equal(sorted(want));
    // Work stays per changed service: the relist after 410 marks nothing that did not change.
    expect([...dirtySeen].filter((k) => !changed.has(k))).to.deep.equal([]);
    expect(dirtySeen.size).to.equal(changed.size);
    // At most one translation per slice event (a deleted Service needs none; its slices'
    // deletions may arrive first, on their own watch).
    expect(churnTranslations).to.be.at.most(sliceEvents);
    console.log(
      `      ${N} services: synced in ${syncMs} ms; churn: ${changed.size} services changed, ` +
        `${churnTranslations} translations`,
    );
  });
});
