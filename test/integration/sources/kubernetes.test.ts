// The Kubernetes source against the test API server through the real client-node: the store
// must converge to exactly what the server holds through churn, 410 expiry, dropped and
// timed-out watches and failing requests.
import { expect } from 'chai';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { TestApiServer, type TestApiServerOptions } from '../../fixtures/apiserver/index.js';
import { KubernetesSource, loadKubeConfig } from '../../../lib/sources/kubernetes.js';
import { nodeEligible } from '../../../lib/serve/node-eligibility.js';
import { ServiceStore } from '../../../lib/sources/store.js';
import { node, service, slice, sleep, waitFor } from './helpers.js';

interface NodeInfo {
  name: string;
  addresses: string[];
}

/** What the test translate returns: enough to compare store contents with the server. */
interface Summary {
  key: string;
  rv: string;
  slices: string[];
}

function summarize(svc: V1Service, slices: readonly V1EndpointSlice[]): Summary {
  return {
    key: `${svc.metadata?.namespace}/${svc.metadata?.name}`,
    rv: svc.metadata?.resourceVersion ?? '',
    slices: slices.map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`).sort(),
  };
}

type Store = ServiceStore<Summary, never, NodeInfo, Record<string, never>>;

function makeStore(): Store {
  return new ServiceStore<Summary, never, NodeInfo, Record<string, never>>({
    translate: (svc, slices) => ({ virtualServers: [summarize(svc, slices)], skipped: [] }),
    node: { name: 'node-a', addresses: [] },
    config: {},
    nodeFrom: (n: V1Node | undefined) => ({
      name: 'node-a',
      addresses: (n?.status?.addresses ?? []).map((a) => a.address),
    }),
  });
}

/** The expectation, computed from the server's objects directly. */
function serverView(api: TestApiServer): Map<string, Summary> {
  const out = new Map<string, Summary>();
  for (const s of api.list('services')) {
    const key = `${s.metadata?.namespace}/${s.metadata?.name}`;
    out.set(key, { key, rv: s.metadata?.resourceVersion ?? '', slices: [] });
  }
  for (const sl of api.list('endpointslices')) {
    const owner = `${sl.metadata?.namespace}/${sl.metadata?.labels?.['kubernetes.io/service-name']}`;
    out.get(owner)?.slices.push(`${sl.metadata?.name}@${sl.metadata?.resourceVersion}`);
  }
  for (const v of out.values()) v.slices.sort();
  return out;
}

/**
 * A consumer that only ever applies desired(takeDirty()), as the reconcile loop will: if
 * dirty marking misses a change, this view drifts from the server.
 */
class DirtyConsumer {
  readonly view = new Map<string, Summary>();
  constructor(private readonly store: Store) {}
  drain(): void {
    for (const [key, d] of this.store.desired(this.store.takeDirty())) {
      const vs = d.virtualServers[0];
      if (d.present && vs) this.view.set(key, vs);
      else this.view.delete(key);
    }
  }
}

function sortedEntries(m: Map<string, Summary>): Summary[] {
  return [...m.values()].sort((a, b) => a.key.localeCompare(b.key));
}

async function converge(api: TestApiServer, consumer: DirtyConsumer, store: Store): Promise<void> {
  let last = '';
  try {
    await waitFor('store to match the server', () => {
      consumer.drain();
      const want = JSON.stringify(sortedEntries(serverView(api)));
      last = JSON.stringify(sortedEntries(consumer.view));
      return want === last;
    });
  } catch (e) {
    expect(last).to.equal(JSON.stringify(sortedEntries(serverView(api))));
    throw e;
  }
  const all = new Map<string, Summary>();
  for (const [k, d] of store.desiredAll()) if (d.virtualServers[0]) all.set(k, d.virtualServers[0]);
  expect(sortedEntries(all)).to.deep.equal(sortedEntries(serverView(api)));
}

describe('sources/kubernetes against the test API server (R1.2, R1.4)', function () {
  this.timeout(30000);
  let api: TestApiServer;
  let source: KubernetesSource | undefined;

  async function startWith(
    opts: TestApiServerOptions,
    sourceOpts: {
      watchTimeoutSeconds?: number;
      watchDeadlineSlackMs?: number;
      listPageSize?: number;
    } = {},
  ) {
    api = await TestApiServer.start(opts);
    const store = makeStore();
    const consumer = new DirtyConsumer(store);
    const errors: string[] = [];
    source = new KubernetesSource({
      kubeConfig: loadKubeConfig(api.writeKubeconfig()),
      nodeName: 'node-a',
      sink: store,
      backoff: { initialMs: 20, maxMs: 200 },
      onError: (what, err) => errors.push(`${what}: ${(err as Error).message}`),
      ...sourceOpts,
    });
    const src = source;
    return { store, consumer, errors, src };
  }

  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await api?.close();
  });

  it('lists existing objects, then follows creates, updates and deletes', async () => {
    const { store, consumer, src } = await startWith({});
    api.create('services', service('default', 'web', '10.0.0.1'));
    api.create('endpointslices', slice('default', 'web-abc', 'web', ['10.1.0.1']));
    api.create('nodes', node('node-a', '192.168.10.11'));
    src.start();
    await src.waitForSync(5000);
    await converge(api, consumer, store);
    expect(store.currentNode.addresses).to.deep.equal(['192.168.10.11']);

    api.create('services', service('other', 'db', '10.0.0.2', 5432, 5432));
    api.create('endpointslices', slice('other', 'db-1', 'db', ['10.1.0.2'], 5432));
    api.update('endpointslices', slice('default', 'web-abc', 'web', ['10.1.0.1', '10.1.0.3']));
    api.update('services', service('default', 'web', '10.0.0.1', 81));
    api.delete('endpointslices', 'other', 'db-1');
    await converge(api, consumer, store);
    expect(store.slicesOf('default/web')[0]?.endpoints).to.have.length(2);

    api.delete('services', 'default', 'web');
    await converge(api, consumer, store);
    expect(store.getService('default/web')).to.equal(undefined);
  });

  it('stop right after the first sync leaves no watch open (plan and --once exit at once)', async () => {
    const { src } = await startWith({});
    api.create('services', service('default', 'web', '10.0.0.1'));
    src.start();
    await src.waitForSync(5000);
    // The watches are being opened now; stop must close them once they are.
    await src.stop();
    source = undefined;
    await sleep(300);
    expect(api.openWatches).to.equal(0);
  });

  it('watches only its own Node, by name (fieldSelector metadata.name)', async () => {
    const { store, src } = await startWith({});
    api.create('nodes', node('node-b', '192.168.10.12'));
    src.start();
    await src.waitForSync(5000);
    expect(store.currentNode.addresses).to.deep.equal([]);
    api.create('nodes', node('node-a', '192.168.10.11'));
    await waitFor('node-a', () => store.currentNode.addresses.length === 1);
    api.update('nodes', node('node-b', '192.168.10.99'));
    api.update('nodes', node('node-a', '192.168.10.21'));
    await waitFor('node-a update', () => store.currentNode.addresses[0] === '192.168.10.21');
    api.delete('nodes', '', 'node-a');
    await waitFor('node-a delete', () => store.currentNode.addresses.length === 0);
    const watchQueries = api.requests.filter((r) => r.watch && r.path === '/api/v1/nodes');
    expect(watchQueries.length).to.be.greaterThan(0);
    for (const q of watchQueries) expect(q.query.fieldSelector).to.equal('metadata.name=node-a');
  });

  it('asks for bookmarks, a server-side timeout and the kube-proxy label selector', async () => {
    const { store, consumer, src } = await startWith({});
    api.create('services', service('default', 'web', '10.0.0.1'));
    api.create('services', {
      ...service('default', 'foreign', '10.0.0.9'),
      metadata: {
        namespace: 'default',
        name: 'foreign',
        labels: { 'service.kubernetes.io/service-proxy-name': 'other-proxy' },
      },
    });
    src.start();
    await src.waitForSync(5000);
    await waitFor('web', () => store.getService('default/web') !== undefined);
    expect(store.getService('default/foreign')).to.equal(undefined);
    const w = api.requests.find((r) => r.watch && r.path === '/api/v1/services');
    expect(w?.query.allowWatchBookmarks).to.equal('true');
    expect(Number(w?.query.timeoutSeconds)).to.be.greaterThan(0);
    expect(w?.query.labelSelector).to.equal(
      '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless',
    );
    consumer.drain();
    expect([...consumer.view.keys()]).to.deep.equal(['default/web']);
  });

  const listsOf = (path: string) => api.requests.filter((r) => !r.watch && r.path === path);
  /** Services s0..s(n-1) at 10.0.NET.i, each with one slice of one endpoint at 10.1.NET.i. */
  const createPairs = (n: number, net: number, namespaceOf = (_i: number) => 'default') => {
    for (let i = 0; i < n; i++) {
      const ns = namespaceOf(i);
      api.create('services', service(ns, `s${i}`, `10.0.${net}.${i}`));
      api.create('endpointslices', slice(ns, `s${i}-x`, `s${i}`, [`10.1.${net}.${i}`]));
    }
  };

  it('lists in pages (limit, continue), each type from one snapshot, then follows changes', async () => {
    const { store, consumer, src } = await startWith({}, { listPageSize: 2 });
    api.create('nodes', node('node-a', '192.168.10.11'));
    createPairs(5, 8, (i) => `ns${i % 2}`);
    // A change between two pages is not in the list (same snapshot); the watch brings it.
    let once = false;
    api.afterListPage = (p) => {
      if (once || p.resource !== 'services') return;
      once = true;
      api.create('services', service('ns0', 'between', '10.0.8.9'));
    };
    src.start();
    await src.waitForSync(5000);
    await converge(api, consumer, store);
    expect(store.getService('ns0/between')).to.not.equal(undefined);
    expect(store.currentNode.addresses).to.deep.equal(['192.168.10.11']);
    for (const path of ['/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices']) {
      const reqs = listsOf(path);
      expect(
        reqs.map((r) => r.query.limit),
        path,
      ).to.deep.equal(['2', '2', '2']);
      expect(
        reqs.filter((r) => r.query.continue !== undefined),
        path,
      ).to.have.length(2);
    }
    const nodeList = listsOf('/api/v1/nodes');
    expect(nodeList).to.have.length(1);
    expect(nodeList[0]?.query.fieldSelector).to.equal('metadata.name=node-a');
    const stats = src.stats();
    expect([stats.services.lists, stats.endpointslices.lists, stats.node.lists]).to.deep.equal([
      1, 1, 1,
    ]);
    // The watch resumes from the list's version, which is the first page's snapshot.
    const w = api.requests.find((r) => r.watch && r.path === '/api/v1/services');
    expect(Number(w?.query.resourceVersion)).to.be.lessThan(
      Number(store.getService('ns0/between')?.metadata?.resourceVersion),
    );
  });

  it('stop during a paged list ends it: the page in flight is dropped and no more are asked for', async () => {
    const { src } = await startWith({}, { listPageSize: 2 });
    for (let i = 0; i < 5; i++) api.create('services', service('default', `s${i}`, `10.0.7.${i}`));
    api.stopAnswering();
    src.start();
    await waitFor('the three first pages asked for', () => api.requests.length === 3);
    await src.stop();
    source = undefined;
    api.resumeAnswering();
    await sleep(300);
    expect(api.requests.filter((r) => r.query.continue !== undefined)).to.deep.equal([]);
    expect(api.requests.filter((r) => r.watch)).to.deep.equal([]);
    expect(api.requests).to.have.length(3);
  });

  it('lists whole from a server without chunking (limit ignored)', async () => {
    const { store, consumer, src } = await startWith({ listChunking: false }, { listPageSize: 2 });
    createPairs(5, 9);
    src.start();
    await src.waitForSync(5000);
    await converge(api, consumer, store);
    expect(store.counts.services).to.equal(5);
    expect(listsOf('/api/v1/services')).to.have.length(1);
    expect(listsOf('/apis/discovery.k8s.io/v1/endpointslices')).to.have.length(1);
  });

  it('relists from the first page when a continuation gets 410 (history compacted between pages)', async () => {
    const { store, consumer, errors, src } = await startWith({}, { listPageSize: 2 });
    for (let i = 0; i < 5; i++) api.create('services', service('default', `s${i}`, `10.0.6.${i}`));
    let expired = false;
    api.afterListPage = (p) => {
      if (expired || p.resource !== 'services') return;
      expired = true;
      api.delete('services', 'default', 's4');
      api.expireHistory();
    };
    src.start();
    await src.waitForSync(5000);
    await converge(api, consumer, store);
    expect(store.counts.services).to.equal(4);
    expect(errors).to.deep.equal([]);
    const svc = listsOf('/api/v1/services');
    expect(
      svc.map((r) => [r.query.continue === undefined ? 'first' : 'next', r.status ?? 200]),
    ).to.deep.equal([
      ['first', 200],
      ['next', 410],
      ['first', 200],
      ['next', 200],
    ]);
    expect(src.stats().services.lists).to.equal(1);
  });

  it('a refused list reaches onError with its status and message, and is retried', async () => {
    const { store, consumer, errors, src } = await startWith({});
    api.create('services', service('default', 'a', '10.0.0.1'));
    const message =
      'services is forbidden: User "system:serviceaccount:kube-system:kube-ipvs" cannot list resource "services" in API group "" at the cluster scope';
    api.failRequests({
      count: 1,
      code: 403,
      reason: 'Forbidden',
      message,
      resource: 'services',
      watch: false,
    });
    src.start();
    await src.waitForSync(5000);
    await converge(api, consumer, store);
    expect(errors).to.deep.equal([`services: list /api/v1/services: 403 Forbidden: ${message}`]);
  });

  it('hands on the Node as the API sends it: timestamps are strings, and a deleting Node is not eligible', async () => {
    api = await TestApiServer.start();
    const deleting = '2026-12-01T10:00:00Z';
    api.create('nodes', {
      ...node('node-a', '192.168.10.11'),
      metadata: { name: 'node-a', deletionTimestamp: deleting },
      spec: {
        taints: [
          { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: deleting },
        ],
      },
    });
    const nodes: Array<V1Node | undefined> = [];
    source = new KubernetesSource({
      kubeConfig: loadKubeConfig(api.writeKubeconfig()),
      nodeName: 'node-a',
      sink: {
        upsertService: () => undefined,
        removeService: () => undefined,
        upsertSlice: () => undefined,
        removeSlice: () => undefined,
        setNode: (n) => nodes.push(n),
      },
    });
    source.start();
    await source.waitForSync(5000);
    const listed = nodes.at(-1);
    // Typed Date by client-node's model, a string on the wire and so here.
    expect(listed?.metadata?.deletionTimestamp as unknown).to.equal(deleting);
    expect(listed?.spec?.taints?.[0]?.timeAdded as unknown).to.equal(deleting);
    expect(nodeEligible(listed)).to.equal(false);
    api.update('nodes', { ...node('node-a', '192.168.10.11'), metadata: { name: 'node-a' } });
    await waitFor('the watched update', () => nodes.length > 1);
    expect(nodeEligible(nodes.at(-1))).to.equal(true);
  });

  for (const mode of ['event', 'http'] as const) {
    it(`relists after 410 Gone on resume (expired watch as ${mode === 'event' ? 'an ERROR event' : 'HTTP 410'})`, async () => {
      const { store, consumer, src } = await startWith({ expiredWatch: mode });
      createPairs(20, 1);
      src.start();
      await src.waitForSync(5000);
      await converge(api, consumer, store);
      const listsBefore = src.stats().services.lists;

      // Cut the watches, change things (including deletes the client never sees as events),
      // then forget the history so resuming from the old version is refused.
      api.dropWatches();
      for (let i = 0; i < 10; i++) api.delete('services', 'default', `s${i}`);
      for (let i = 10; i < 15; i++) api.delete('endpointslices', 'default', `s${i}-x`);
      api.create('services', service('default', 'late', '10.0.2.1'));
      api.expireHistory();
      await converge(api, consumer, store);
      expect(src.stats().services.lists).to.be.greaterThan(listsBefore);
      expect(store.counts.services).to.equal(11);
    });
  }

  it('relists when an open watch gets an ERROR 410 event (history compacted under it)', async () => {
    const { store, consumer, src } = await startWith({});
    api.create('services', service('default', 'a', '10.0.0.1'));
    src.start();
    await src.waitForSync(5000);
    await waitFor('watches open', () => api.openWatches === 3);
    const lists = api.requests.filter((r) => !r.watch && r.path === '/api/v1/services').length;
    api.expireHistory({ notifyOpenWatches: true });
    api.create('services', service('default', 'b', '10.0.0.2'));
    await converge(api, consumer, store);
    await waitFor(
      'a relist',
      () => api.requests.filter((r) => !r.watch && r.path === '/api/v1/services').length > lists,
    );
    expect(store.counts.services).to.equal(2);
  });

  it('resumes from its resourceVersion after dropped watches, without relisting', async () => {
    const { store, consumer, src } = await startWith({});
    api.create('services', service('default', 'a', '10.0.0.1'));
    src.start();
    await src.waitForSync(5000);
    await waitFor('watches open', () => api.openWatches === 3);
    const lists = api.requests.filter((r) => !r.watch).length;
    for (let round = 0; round < 5; round++) {
      expect(api.dropWatches()).to.be.greaterThan(0);
      api.create('services', service('default', `r${round}`, `10.0.3.${round}`));
      api.create('endpointslices', slice('default', `r${round}-s`, `r${round}`, ['10.1.3.1']));
      await converge(api, consumer, store);
      await waitFor('watches reopen', () => api.openWatches === 3);
    }
    expect(api.requests.filter((r) => !r.watch).length).to.equal(lists);
    const resumed = api.requests.filter((r) => r.watch && r.query.resourceVersion !== '');
    expect(resumed.length).to.be.greaterThan(5);
  });

  it('keeps following across server-side watch timeouts (timeoutSeconds)', async () => {
    const { store, consumer, src } = await startWith({}, { watchTimeoutSeconds: 1 });
    src.start();
    await src.waitForSync(5000);
    for (let i = 0; i < 6; i++) {
      api.create('services', service('default', `t${i}`, `10.0.4.${i}`));
      await sleep(400);
    }
    await converge(api, consumer, store);
    const svcWatches = api.requests.filter((r) => r.watch && r.path === '/api/v1/services');
    expect(svcWatches.length).to.be.greaterThan(1);
    expect(api.requests.filter((r) => !r.watch && r.path === '/api/v1/services')).to.have.length(1);
  });

  it('aborts and restarts a watch the server never ends (client-side deadline)', async () => {
    const { store, consumer, src } = await startWith(
      { honorWatchTimeout: false },
      { watchTimeoutSeconds: 1, watchDeadlineSlackMs: 200 },
    );
    src.start();
    await src.waitForSync(5000);
    await waitFor(
      'a second services watch',
      () => api.requests.filter((r) => r.watch && r.path === '/api/v1/services').length >= 2,
      5000,
    );
    api.create('services', service('default', 'after-deadline', '10.0.5.1'));
    await converge(api, consumer, store);
  });

  it('downSince: undefined while every watch streams, set when the server stops answering, cleared once it answers again', async () => {
    const { store, consumer, src } = await startWith({});
    api.create('nodes', node('node-a', '192.168.10.11'));
    const before = Date.now();
    src.start();
    expect(src.downSince()).to.be.a('number');
    await src.waitForSync(5000);
    await waitFor('all three watches streaming', () => src.downSince() === undefined);
    const stopped = Date.now();
    api.stopAnswering();
    await waitFor('the source to notice', () => src.downSince() !== undefined);
    expect(src.downSince()).to.be.at.least(stopped);
    // Nothing answers, so it stays down however long this takes.
    api.create('services', service('default', 'late', '10.0.0.9'));
    await sleep(300);
    expect(src.downSince())
      .to.be.at.least(before)
      .and.at.most(Date.now() - 300);
    api.resumeAnswering();
    await waitFor('streaming again', () => src.downSince() === undefined);
    await converge(api, consumer, store);
  });

  it('retries failed lists and watches with backoff until they succeed', async () => {
    const { store, consumer, errors, src } = await startWith({});
    api.create('services', service('default', 'a', '10.0.0.1'));
    api.failRequests({ count: 3, code: 500, resource: 'services', watch: false });
    api.failRequests({
      count: 2,
      code: 503,
      resource: 'discovery.k8s.io/endpointslices',
      watch: true,
    });
    src.start();
    await src.waitForSync(10000);
    api.create('endpointslices', slice('default', 'a-1', 'a', ['10.1.0.1']));
    await converge(api, consumer, store);
    expect(errors.filter((e) => e.startsWith('services:'))).to.have.length(3);
    expect(errors.filter((e) => e.startsWith('endpointslices:'))).to.have.length(2);
  });

  it('backs off when every watch is answered with an ERROR event (no busy loop)', async () => {
    const { store, consumer, src } = await startWith({});
    src.start();
    await src.waitForSync(5000);
    await waitFor('watches open', () => api.openWatches === 3);
    const before = api.requests.length;
    api.failRequests({ count: 6, code: 500, resource: 'services', watch: true, asEvent: true });
    api.closeWatches();
    api.create('services', service('default', 'after-errors', '10.0.7.1'));
    await converge(api, consumer, store);
    const times = api.requests
      .slice(before)
      .filter((r) => r.watch && r.path === '/api/v1/services')
      .map((r) => r.at);
    expect(times.length).to.be.at.least(7);
    // 20 ms doubling up to 200 ms: the six failures span well over 500 ms.
    expect((times[6] ?? 0) - (times[0] ?? 0)).to.be.greaterThan(500);
  });

  it('keeps resumption cheap with bookmarks: no relist after history of other kinds is gone', async () => {
    const { store, consumer, src } = await startWith({ bookmarkIntervalMs: 50 });
    api.create('services', service('default', 'a', '10.0.0.1'));
    src.start();
    await src.waitForSync(5000);
    for (let i = 0; i < 30; i++)
      api.create('endpoints', { metadata: { namespace: 'default', name: `e${i}` } });
    const rv = String(api.resourceVersion);
    // Only a bookmark can move the Services informer to a version of an Endpoints change.
    await waitFor('bookmark', () => src.stats().services.resourceVersion === rv);
    api.expireHistory();
    api.dropWatches();
    await waitFor('watches reopen', () => api.openWatches === 3);
    await converge(api, consumer, store);
    expect(api.requests.filter((r) => !r.watch && r.path === '/api/v1/services')).to.have.length(1);
  });

  it('converges under random churn with watch drops and expiries in between', async () => {
    const { store, consumer, src } = await startWith({ historyLimit: 50, bookmarkIntervalMs: 100 });
    src.start();
    await src.waitForSync(5000);
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let step = 0; step < 600; step++) {
      const i = rand(40);
      const name = `c${i}`;
      const op = rand(10);
      const has = api.get('services', 'default', name) !== undefined;
      const hasSlice = api.get('endpointslices', 'default', `${name}-s`) !== undefined;
      if (op < 3) {
        if (has) api.update('services', service('default', name, `10.0.6.${i}`, 80 + rand(5)));
        else api.create('services', service('default', name, `10.0.6.${i}`));
      } else if (op < 6) {
        const s = slice('default', `${name}-s`, name, [`10.1.6.${rand(250)}`]);
        if (hasSlice) api.update('endpointslices', s);
        else api.create('endpointslices', s);
      } else if (op < 8) {
        if (has) api.delete('services', 'default', name);
      } else if (op < 9) {
        if (hasSlice) api.delete('endpointslices', 'default', `${name}-s`);
      } else if (rand(4) === 0) {
        api.dropWatches();
      } else if (rand(8) === 0) {
        api.expireHistory({ notifyOpenWatches: rand(2) === 0 });
      }
      if (step % 50 === 25) await sleep(30);
    }
    await converge(api, consumer, store);
  });
});
