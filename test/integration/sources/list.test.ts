// The paged list (lib/sources/list.ts) against the test API server over loopback: pages and
// their snapshot, selectors, a server without chunking, continue tokens that expire, and
// errors that carry the HTTP status and the Status message.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { V1Service } from '@kubernetes/client-node';
import { TestApiServer } from '../../fixtures/apiserver/index.js';
import { loadKubeConfig } from '../../../lib/sources/kubernetes.js';
import {
  DEFAULT_PAGE_SIZE,
  ListError,
  MAX_LIST_RESTARTS,
  listAll,
} from '../../../lib/sources/list.js';
import { service } from './helpers.js';

const names = (items: readonly V1Service[]) =>
  items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`);

describe('sources/list: paged lists (limit, continue)', function () {
  this.timeout(20000);
  let api: TestApiServer | undefined;
  let other: Server | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
    if (other) await new Promise((r) => other?.close(r));
    other = undefined;
  });

  async function seeded(n: number, opts: { listChunking?: boolean } = {}) {
    const s = await TestApiServer.start(opts);
    for (let i = 0; i < n; i++) s.create('services', service(`ns${i % 3}`, `s${i}`, `10.0.0.${i}`));
    api = s;
    return { s, kc: loadKubeConfig(s.writeKubeconfig()) };
  }

  const listRequests = (s: TestApiServer) =>
    s.requests.filter((r) => !r.watch && r.path === '/api/v1/services');

  it('follows continue tokens page by page; one resourceVersion, items in key order, raw JSON', async () => {
    const { s, kc } = await seeded(7);
    const rv = String(s.resourceVersion);
    // Changes after the first page must not show: the pages are one snapshot.
    let pages = 0;
    s.afterListPage = () => {
      if (pages++ === 0) {
        s.delete('services', 'ns0', 's0');
        s.create('services', service('ns0', 'late', '10.0.1.1'));
      }
    };
    const list = await listAll<V1Service>(kc, '/api/v1/services', { pageSize: 3 });
    expect(list.metadata).to.deep.equal({ resourceVersion: rv });
    expect(names(list.items)).to.deep.equal([
      'ns0/s0',
      'ns0/s3',
      'ns0/s6',
      'ns1/s1',
      'ns1/s4',
      'ns2/s2',
      'ns2/s5',
    ]);
    // As the API server sent it: strings, not the Dates client-node's serializer makes.
    expect(list.items[0]?.metadata?.creationTimestamp).to.be.a('string');
    const reqs = listRequests(s);
    expect(reqs.map((r) => r.query.limit)).to.deep.equal(['3', '3', '3']);
    for (const r of reqs) expect(r.accept).to.equal('application/json, */*;q=0.8');
    expect(reqs[0]?.query.continue).to.equal(undefined);
    expect(reqs[1]?.query.continue).to.be.a('string');
    expect(reqs[2]?.query.continue).to.be.a('string').and.not.equal(reqs[1]?.query.continue);
  });

  it('sends the selectors on every page, 500 per page by default, and transforms each item', async () => {
    const { s, kc } = await seeded(4);
    s.create('services', {
      ...service('ns9', 'x', '10.0.2.1'),
      metadata: { namespace: 'ns9', name: 'x', labels: { skip: 'yes' } },
    });
    const list = await listAll<V1Service>(kc, '/api/v1/services', {
      labelSelector: '!skip',
      fieldSelector: 'metadata.namespace!=ns2',
      pageSize: 1,
      transform: (o) => ({ metadata: { name: `t-${o.metadata?.name}` } }),
    });
    expect(list.items.map((i) => i.metadata?.name)).to.deep.equal(['t-s0', 't-s3', 't-s1']);
    for (const r of listRequests(s)) {
      expect(r.query.labelSelector).to.equal('!skip');
      expect(r.query.fieldSelector).to.equal('metadata.namespace!=ns2');
    }
    expect(listRequests(s)).to.have.length(3);
    await listAll<V1Service>(kc, '/api/v1/services');
    expect(listRequests(s).at(-1)?.query.limit).to.equal(String(DEFAULT_PAGE_SIZE));
    expect(DEFAULT_PAGE_SIZE).to.equal(500);
  });

  it("uses the kubeconfig's credentials on every page, as client-node's Watch does", async () => {
    const { s, kc } = await seeded(3);
    kc.users = [{ name: 'test', token: 'list-token' }];
    await listAll<V1Service>(kc, '/api/v1/services', { pageSize: 1 });
    const reqs = listRequests(s);
    expect(reqs).to.have.length(3);
    for (const r of reqs) expect(r.authorization).to.equal('Bearer list-token');
  });

  it('takes a whole list from a server without chunking in one request', async () => {
    const { s, kc } = await seeded(5, { listChunking: false });
    const list = await listAll<V1Service>(kc, '/api/v1/services', { pageSize: 2 });
    expect(list.items).to.have.length(5);
    expect(list.metadata?.resourceVersion).to.equal(String(s.resourceVersion));
    expect(listRequests(s)).to.have.length(1);
  });

  it('starts over from the first page when a continue token expired (410), as a new snapshot', async () => {
    const { s, kc } = await seeded(5);
    let expired = false;
    s.afterListPage = () => {
      if (expired) return;
      expired = true;
      s.create('services', service('ns0', 'between', '10.0.1.2'));
      s.expireHistory();
    };
    const list = await listAll<V1Service>(kc, '/api/v1/services', { pageSize: 2 });
    expect(list.items).to.have.length(6);
    expect(names(list.items)).to.include('ns0/between');
    expect(list.metadata?.resourceVersion).to.equal(String(s.resourceVersion));
    const reqs = listRequests(s);
    expect(reqs.map((r) => r.status ?? 200)).to.deep.equal([200, 410, 200, 200, 200]);
    expect(reqs[2]?.query.continue).to.equal(undefined);
  });

  it(`gives up after ${MAX_LIST_RESTARTS} restarts with the 410 and its message`, async () => {
    const { s, kc } = await seeded(5);
    let n = 0;
    s.afterListPage = () => {
      s.create('services', service('ns0', `between-${n++}`, `10.0.1.${n}`));
      s.expireHistory();
    };
    const err = await listAll<V1Service>(kc, '/api/v1/services', { pageSize: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ListError);
    expect((err as ListError).statusCode).to.equal(410);
    expect((err as ListError).reason).to.equal('Expired');
    expect((err as ListError).message).to.equal(
      `list /api/v1/services: 410 Gone: The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter. (started over ${MAX_LIST_RESTARTS} times)`,
    );
    const firstPages = listRequests(s).filter((r) => r.query.continue === undefined);
    expect(firstPages).to.have.length(MAX_LIST_RESTARTS + 1);
  });

  it('an error status carries the HTTP status and the Status message; 410 on a first page is not retried', async () => {
    const { s, kc } = await seeded(1);
    s.failRequests({
      count: 1,
      code: 403,
      reason: 'Forbidden',
      message: 'services is forbidden: User "kube-ipvs" cannot list resource "services"',
    });
    const err = (await listAll(kc, '/api/v1/services').catch((e: unknown) => e)) as ListError;
    expect(err).to.be.instanceOf(ListError);
    expect(err.statusCode).to.equal(403);
    expect(err.reason).to.equal('Forbidden');
    expect(err.message).to.equal(
      'list /api/v1/services: 403 Forbidden: services is forbidden: User "kube-ipvs" cannot list resource "services"',
    );
    s.failRequests({ count: 1, code: 410, reason: 'Expired', message: 'gone' });
    const gone = (await listAll(kc, '/api/v1/services').catch((e: unknown) => e)) as ListError;
    expect(gone.statusCode).to.equal(410);
    expect(listRequests(s)).to.have.length(2);
  });

  it('an answer that is no Status or no list is an error that says so', async () => {
    other = createServer((req, res) => {
      if (req.url?.startsWith('/bad-gateway')) {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>bad gateway</html>');
      } else if (req.url?.startsWith('/not-json')) {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>hello</html>');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.url?.startsWith('/null') ? 'null' : '{"items":{}}');
      }
    });
    const srv = other;
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const s = await TestApiServer.start();
    api = s;
    const kc = loadKubeConfig(s.writeKubeconfig());
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no cluster');
    kc.clusters = [{ ...cluster, server: `http://127.0.0.1:${port}` }];
    const fail = (path: string) =>
      listAll(kc, path).then(
        () => undefined,
        (e: unknown) => e,
      );
    const proxy = (await fail('/bad-gateway')) as ListError;
    expect(proxy).to.be.instanceOf(ListError);
    expect(proxy.statusCode).to.equal(502);
    expect(proxy.message).to.equal('list /bad-gateway: 502 Bad Gateway');
    expect(((await fail('/not-json')) as Error).message).to.match(
      /^list \/not-json: the answer is not JSON: /,
    );
    expect(((await fail('/not-list')) as Error).message).to.equal(
      'list /not-list: the answer is not a list',
    );
    expect(((await fail('/null')) as Error).message).to.equal(
      'list /null: the answer is not a list',
    );
  });
});
