// The test API server speaks the protocol the real one does; checked over raw HTTP so the
// informer tests rest on a fixture that is itself tested.
import { expect } from 'chai';
import { TestApiServer } from '../../fixtures/apiserver/index.js';
import { service, slice } from './helpers.js';

interface WatchEvent {
  type: string;
  object: {
    kind?: string;
    code?: number;
    reason?: string;
    metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
  };
}

/** Opens a watch and collects events until `until` says stop, the stream ends, or timeout. */
async function watchEvents(
  url: string,
  until: (events: WatchEvent[]) => boolean = () => false,
  timeoutMs = 3000,
): Promise<{ status: number; events: WatchEvent[]; ended: boolean }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const res = await fetch(url, { signal: ac.signal });
  const events: WatchEvent[] = [];
  let ended = false;
  if (res.status !== 200 || !res.body) {
    clearTimeout(timer);
    const body = (await res.json()) as WatchEvent['object'];
    return { status: res.status, events: [{ type: 'HTTP', object: body }], ended: true };
  }
  const reader = res.body.getReader();
  let buf = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      buf += Buffer.from(value).toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buf.slice(0, nl)) as WatchEvent);
        buf = buf.slice(nl + 1);
      }
      if (until(events)) break;
    }
  } catch {
    // aborted by the timer
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { status: res.status, events, ended };
}

describe('test API server fixture (protocol)', function () {
  this.timeout(20000);
  let api: TestApiServer;
  afterEach(async () => api?.close());

  it('lists with a global resourceVersion; items without kind, list with its kind', async () => {
    api = await TestApiServer.start();
    api.create('services', service('a', 's1', '10.0.0.1'));
    api.create('endpointslices', slice('a', 'x', 's1', ['10.1.0.1']));
    api.create('services', service('b', 's2', '10.0.0.2'));
    const all = (await (await fetch(`${api.url}/api/v1/services`)).json()) as {
      kind: string;
      apiVersion: string;
      metadata: { resourceVersion: string };
      items: Array<{
        kind?: string;
        metadata: { name: string; resourceVersion: string; uid: string };
      }>;
    };
    expect(all.kind).to.equal('ServiceList');
    expect(all.apiVersion).to.equal('v1');
    expect(all.metadata.resourceVersion).to.equal(String(api.resourceVersion));
    expect(all.items.map((i) => i.metadata.name)).to.deep.equal(['s1', 's2']);
    expect(all.items[0]?.kind).to.equal(undefined);
    expect(Number(all.items[1]?.metadata.resourceVersion)).to.be.greaterThan(
      Number(all.items[0]?.metadata.resourceVersion),
    );
    const ns = (await (await fetch(`${api.url}/api/v1/namespaces/b/services`)).json()) as {
      items: unknown[];
    };
    expect(ns.items).to.have.length(1);
    const eps = (await (
      await fetch(`${api.url}/apis/discovery.k8s.io/v1/endpointslices`)
    ).json()) as { kind: string; items: unknown[] };
    expect(eps.kind).to.equal('EndpointSliceList');
    expect(eps.items).to.have.length(1);
  });

  it('watch from a version replays later events, then streams new ones', async () => {
    api = await TestApiServer.start();
    const first = api.create('services', service('a', 's1', '10.0.0.1'));
    const rv = first.metadata?.resourceVersion;
    api.update('services', service('a', 's1', '10.0.0.1', 81));
    api.create('services', service('a', 's2', '10.0.0.2'));
    const p = watchEvents(
      `${api.url}/api/v1/services?watch=true&resourceVersion=${rv}`,
      (e) => e.length >= 3,
    );
    setTimeout(() => api.delete('services', 'a', 's2'), 100);
    const { events } = await p;
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).to.deep.equal([
      'MODIFIED s1',
      'ADDED s2',
      'DELETED s2',
    ]);
    expect(events[0]?.object.kind).to.equal('Service');
    expect(Number(events[2]?.object.metadata?.resourceVersion)).to.equal(api.resourceVersion);
  });

  it('watch without a version sends the current objects as ADDED first', async () => {
    api = await TestApiServer.start();
    api.create('services', service('a', 's1', '10.0.0.1'));
    const { events } = await watchEvents(
      `${api.url}/api/v1/services?watch=1`,
      (e) => e.length >= 1,
    );
    expect(events[0]).to.deep.include({ type: 'ADDED' });
  });

  it('410 Gone for an expired version: an ERROR event then close, or HTTP 410 (option)', async () => {
    api = await TestApiServer.start({ historyLimit: 3 });
    for (let i = 0; i < 6; i++) api.create('services', service('a', `s${i}`, `10.0.0.${i}`));
    const r = await watchEvents(`${api.url}/api/v1/services?watch=true&resourceVersion=2`);
    expect(r.status).to.equal(200);
    expect(r.ended).to.equal(true);
    expect(r.events).to.have.length(1);
    expect(r.events[0]?.type).to.equal('ERROR');
    expect(r.events[0]?.object).to.deep.include({ kind: 'Status', code: 410, reason: 'Expired' });
    const ok = await watchEvents(
      `${api.url}/api/v1/services?watch=true&resourceVersion=${api.resourceVersion - 2}`,
      (e) => e.length >= 2,
    );
    expect(ok.events.map((e) => e.type)).to.deep.equal(['ADDED', 'ADDED']);
    await api.close();

    api = await TestApiServer.start({ expiredWatch: 'http' });
    api.create('services', service('a', 's', '10.0.0.1'));
    api.expireHistory();
    const h = await watchEvents(`${api.url}/api/v1/services?watch=true&resourceVersion=1`);
    expect(h.status).to.equal(410);
    expect(h.events[0]?.object).to.deep.include({ kind: 'Status', code: 410, reason: 'Expired' });
    const list = await fetch(
      `${api.url}/api/v1/services?resourceVersion=1&resourceVersionMatch=Exact`,
    );
    expect(list.status).to.equal(410);
  });

  it('an open watch gets ERROR 410 when history is expired under it (notifyOpenWatches)', async () => {
    api = await TestApiServer.start();
    const p = watchEvents(`${api.url}/api/v1/services?watch=true&resourceVersion=1`, (e) =>
      e.some((x) => x.type === 'ERROR'),
    );
    setTimeout(() => api.expireHistory({ notifyOpenWatches: true }), 100);
    const { events } = await p;
    expect(events.at(-1)?.object).to.deep.include({ code: 410 });
  });

  it('bookmarks carry the latest resourceVersion; timeoutSeconds ends the watch', async () => {
    api = await TestApiServer.start({ bookmarkIntervalMs: 50 });
    api.create('endpoints', { metadata: { namespace: 'a', name: 'e' } });
    const r = await watchEvents(
      `${api.url}/api/v1/services?watch=true&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=1`,
      () => false,
      5000,
    );
    expect(r.ended).to.equal(true);
    const bookmarks = r.events.filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks.length).to.be.greaterThan(5);
    expect(bookmarks[0]?.object.metadata?.resourceVersion).to.equal(String(api.resourceVersion));
    const none = await watchEvents(
      `${api.url}/api/v1/services?watch=true&resourceVersion=1&timeoutSeconds=1`,
      () => false,
      5000,
    );
    expect(none.events.filter((e) => e.type === 'BOOKMARK')).to.deep.equal([]);
  });

  it('sendInitialEvents ends the initial ADDED events with an annotated BOOKMARK', async () => {
    api = await TestApiServer.start();
    api.create('services', service('a', 's1', '10.0.0.1'));
    const { events } = await watchEvents(
      `${api.url}/api/v1/services?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
      (e) => e.length >= 2,
    );
    expect(events.map((e) => e.type)).to.deep.equal(['ADDED', 'BOOKMARK']);
    expect(events[1]?.object.metadata?.annotations).to.deep.equal({
      'k8s.io/initial-events-end': 'true',
    });
  });

  it('label selectors (set-based) and field selectors filter lists and watches; a label change is ADDED/DELETED', async () => {
    api = await TestApiServer.start();
    api.create('services', { ...service('a', 'mine', '10.0.0.1') });
    api.create('services', {
      ...service('a', 'theirs', '10.0.0.2'),
      metadata: {
        namespace: 'a',
        name: 'theirs',
        labels: { 'service.kubernetes.io/service-proxy-name': 'x' },
      },
    });
    const sel = encodeURIComponent('!service.kubernetes.io/service-proxy-name');
    const list = (await (
      await fetch(`${api.url}/api/v1/services?labelSelector=${sel}`)
    ).json()) as { items: Array<{ metadata: { name: string } }> };
    expect(list.items.map((i) => i.metadata.name)).to.deep.equal(['mine']);
    const p = watchEvents(
      `${api.url}/api/v1/services?watch=true&resourceVersion=${api.resourceVersion}&labelSelector=${sel}`,
      (e) => e.length >= 2,
    );
    setTimeout(() => {
      api.update('services', {
        ...service('a', 'mine', '10.0.0.1'),
        metadata: {
          namespace: 'a',
          name: 'mine',
          labels: { 'service.kubernetes.io/service-proxy-name': 'x' },
        },
      });
      api.update('services', service('a', 'theirs', '10.0.0.2'));
    }, 100);
    const { events } = await p;
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).to.deep.equal([
      'DELETED mine',
      'ADDED theirs',
    ]);

    api.create('nodes', { metadata: { name: 'node-a' } });
    api.create('nodes', { metadata: { name: 'node-b' } });
    const nodes = (await (
      await fetch(`${api.url}/api/v1/nodes?fieldSelector=metadata.name%3Dnode-b`)
    ).json()) as { items: Array<{ metadata: { name: string } }> };
    expect(nodes.items.map((i) => i.metadata.name)).to.deep.equal(['node-b']);
    const bad = await fetch(`${api.url}/api/v1/nodes?fieldSelector=spec.bogus%3Dx`);
    expect(bad.status).to.equal(400);
  });

  it('create/update/delete over HTTP with Status errors: 201, 409 AlreadyExists/Conflict, 404', async () => {
    api = await TestApiServer.start();
    const post = (path: string, body: unknown) =>
      fetch(`${api.url}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    const created = await post('/api/v1/namespaces/a/services', service('a', 's', '10.0.0.1'));
    expect(created.status).to.equal(201);
    const obj = (await created.json()) as { metadata: { resourceVersion: string; uid: string } };
    const dup = await post('/api/v1/namespaces/a/services', service('a', 's', '10.0.0.1'));
    expect(dup.status).to.equal(409);
    expect(await dup.json()).to.deep.include({
      kind: 'Status',
      reason: 'AlreadyExists',
      code: 409,
    });
    const stale = await fetch(`${api.url}/api/v1/namespaces/a/services/s`, {
      method: 'PUT',
      body: JSON.stringify({
        ...service('a', 's', '10.0.0.1'),
        metadata: { namespace: 'a', name: 's', resourceVersion: '1' },
      }),
    });
    expect(stale.status).to.equal(409);
    expect(((await stale.json()) as { reason: string }).reason).to.equal('Conflict');
    const put = await fetch(`${api.url}/api/v1/namespaces/a/services/s`, {
      method: 'PUT',
      body: JSON.stringify({
        ...service('a', 's', '10.0.0.1', 81),
        metadata: { namespace: 'a', name: 's', resourceVersion: obj.metadata.resourceVersion },
      }),
    });
    expect(put.status).to.equal(200);
    expect(((await put.json()) as { metadata: { uid: string } }).metadata.uid).to.equal(
      obj.metadata.uid,
    );
    const ev = await post('/api/v1/namespaces/a/events', {
      metadata: { generateName: 'kube-ipvs-' },
      reason: 'Test',
      involvedObject: { kind: 'Service', name: 's' },
    });
    expect(ev.status).to.equal(201);
    const events = (await (
      await fetch(`${api.url}/api/v1/namespaces/a/events?fieldSelector=involvedObject.name%3Ds`)
    ).json()) as { items: unknown[] };
    expect(events.items).to.have.length(1);
    const patched = await fetch(`${api.url}/api/v1/namespaces/a/services/s`, {
      method: 'PATCH',
      body: JSON.stringify({
        metadata: { labels: { team: 'x' } },
        spec: { sessionAffinity: null },
      }),
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).to.equal(200);
    const p = (await patched.json()) as {
      metadata: { labels: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(p.metadata.labels).to.deep.equal({ team: 'x' });
    expect(p.spec).to.not.have.property('sessionAffinity');
    expect(p.spec.clusterIP).to.equal('10.0.0.1');
    expect(
      (await fetch(`${api.url}/api/v1/namespaces/a/services/s`, { method: 'DELETE' })).status,
    ).to.equal(200);
    const gone = await fetch(`${api.url}/api/v1/namespaces/a/services/s`, { method: 'DELETE' });
    expect(gone.status).to.equal(404);
    expect(await gone.json()).to.deep.include({ kind: 'Status', reason: 'NotFound', code: 404 });
  });

  it('an Exact list at an older version is rebuilt from history', async () => {
    api = await TestApiServer.start();
    api.create('services', service('a', 's1', '10.0.0.1'));
    const rv = api.resourceVersion;
    api.create('services', service('a', 's2', '10.0.0.2'));
    api.delete('services', 'a', 's1');
    const old = (await (
      await fetch(`${api.url}/api/v1/services?resourceVersion=${rv}&resourceVersionMatch=Exact`)
    ).json()) as {
      metadata: { resourceVersion: string };
      items: Array<{ metadata: { name: string } }>;
    };
    expect(old.metadata.resourceVersion).to.equal(String(rv));
    expect(old.items.map((i) => i.metadata.name)).to.deep.equal(['s1']);
  });

  it('dropWatches cuts streams; failRequests injects errors', async () => {
    api = await TestApiServer.start();
    const p = watchEvents(`${api.url}/api/v1/services?watch=true`, () => false, 5000);
    await new Promise((r) => setTimeout(r, 100));
    expect(api.openWatches).to.equal(1);
    expect(api.dropWatches()).to.equal(1);
    const r = await p;
    expect(r.events).to.deep.equal([]);
    expect(api.openWatches).to.equal(0);
    api.failRequests({ count: 1, code: 503 });
    expect((await fetch(`${api.url}/api/v1/services`)).status).to.equal(503);
    expect((await fetch(`${api.url}/api/v1/services`)).status).to.equal(200);
    api.failRequests({ count: 1, code: 403, reason: 'Forbidden', message: 'no list for you' });
    const denied = await fetch(`${api.url}/api/v1/services`);
    expect(denied.status).to.equal(403);
    expect(await denied.json()).to.deep.include({
      reason: 'Forbidden',
      message: 'no list for you',
      code: 403,
    });
  });

  it('stopAnswering cuts watches and holds every request unanswered; resumeAnswering answers the held ones', async () => {
    api = await TestApiServer.start();
    const p = watchEvents(`${api.url}/api/v1/services?watch=true`, () => false, 5000);
    await new Promise((r) => setTimeout(r, 100));
    api.stopAnswering();
    expect(api.answering).to.equal(false);
    expect(api.openWatches).to.equal(0);
    expect((await p).events).to.deep.equal([]);
    // No answer within 300 ms (the client gives up), however often it asks.
    const unanswered = await fetch(`${api.url}/api/v1/services`, {
      signal: AbortSignal.timeout(300),
    }).then(
      () => 'answered',
      (e: Error) => e.name,
    );
    expect(unanswered).to.equal('TimeoutError');
    const held = fetch(`${api.url}/api/v1/services`);
    await new Promise((r) => setTimeout(r, 100));
    api.create('services', service('default', 'web', '10.0.0.1'));
    api.resumeAnswering();
    const list = (await (await held).json()) as { items: unknown[] };
    expect(list.items).to.have.length(1);
    expect(api.answering).to.equal(true);
  });

  describe('chunked lists (limit, continue)', () => {
    interface Page {
      /** The HTTP status (a Status body's own `status` is Failure). */
      http: number;
      metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
      items: Array<{ kind?: string; metadata: { namespace?: string; name: string } }>;
      code?: number;
      reason?: string;
      message?: string;
    }

    async function get(path: string): Promise<Page> {
      const res = await fetch(`${api.url}${path}`);
      return { ...((await res.json()) as Omit<Page, 'http'>), http: res.status };
    }

    const names = (p: Page) => p.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);

    /** Five Services created out of key order; keys sort by code unit ('a-b' < 'a/'). */
    function seed(): void {
      api.create('services', service('b', 's1', '10.0.0.1'));
      api.create('services', service('a', 's2', '10.0.0.2'));
      api.create('services', service('a-b', 's3', '10.0.0.3'));
      api.create('services', service('a', 's1', '10.0.0.4'));
      api.create('services', service('c', 's1', '10.0.0.5'));
    }

    it('pages in key order with continue and remainingItemCount, every page from the first page snapshot', async () => {
      api = await TestApiServer.start();
      seed();
      const rv = String(api.resourceVersion);
      const first = await get('/api/v1/services?limit=2');
      expect(first.http).to.equal(200);
      expect(names(first)).to.deep.equal(['a-b/s3', 'a/s1']);
      expect(first.items[0]?.kind).to.equal(undefined);
      expect(first.metadata.resourceVersion).to.equal(rv);
      expect(first.metadata.remainingItemCount).to.equal(3);
      // The token is what kube-apiserver's storage encodes: {v, rv, start}, base64url.
      const token = JSON.parse(
        Buffer.from(first.metadata.continue ?? '', 'base64url').toString('utf8'),
      ) as Record<string, unknown>;
      expect(token).to.deep.equal({ v: 'meta.k8s.io/v1', rv: Number(rv), start: 'a/s1\u0000' });
      // Changes between pages do not show in the rest of the list.
      api.delete('services', 'b', 's1');
      api.create('services', service('a', 's9', '10.0.0.9'));
      api.update('services', service('c', 's1', '10.0.0.5', 81));
      const second = await get(
        `/api/v1/services?limit=2&continue=${encodeURIComponent(first.metadata.continue ?? '')}`,
      );
      expect(names(second)).to.deep.equal(['a/s2', 'b/s1']);
      expect(second.metadata.resourceVersion).to.equal(rv);
      expect(second.metadata.remainingItemCount).to.equal(1);
      const third = await get(`/api/v1/services?limit=2&continue=${second.metadata.continue}`);
      expect(names(third)).to.deep.equal(['c/s1']);
      expect(third.metadata).to.deep.equal({ resourceVersion: rv });
      // A limit that covers everything: one page, no token.
      expect((await get('/api/v1/services?limit=5')).metadata).to.deep.equal({
        resourceVersion: String(api.resourceVersion),
      });
    });

    it('with a selector the limit counts matching items and no remainingItemCount is given', async () => {
      api = await TestApiServer.start();
      seed();
      const sel = encodeURIComponent('metadata.name=s1');
      const first = await get(`/api/v1/services?limit=2&fieldSelector=${sel}`);
      expect(names(first)).to.deep.equal(['a/s1', 'b/s1']);
      expect(first.metadata.remainingItemCount).to.equal(undefined);
      expect(first.metadata.continue).to.be.a('string');
      const second = await get(
        `/api/v1/services?limit=2&fieldSelector=${sel}&continue=${first.metadata.continue}`,
      );
      expect(names(second)).to.deep.equal(['c/s1']);
      expect(second.metadata.continue).to.equal(undefined);
      const ns = await get('/api/v1/namespaces/a/services?limit=1');
      expect(names(ns)).to.deep.equal(['a/s1']);
      expect(ns.metadata.remainingItemCount).to.equal(1);
    });

    it('pages an Exact list at an older version; resourceVersion=0 ignores limit', async () => {
      api = await TestApiServer.start();
      seed();
      const rv = api.resourceVersion;
      api.delete('services', 'a', 's1');
      const old = await get(
        `/api/v1/services?limit=3&resourceVersion=${rv}&resourceVersionMatch=Exact`,
      );
      expect(names(old)).to.deep.equal(['a-b/s3', 'a/s1', 'a/s2']);
      expect(old.metadata.resourceVersion).to.equal(String(rv));
      const rest = await get(`/api/v1/services?limit=3&continue=${old.metadata.continue}`);
      expect(names(rest)).to.deep.equal(['b/s1', 'c/s1']);
      expect(rest.metadata.resourceVersion).to.equal(String(rv));
      const any = await get('/api/v1/services?limit=1&resourceVersion=0');
      expect(any.items).to.have.length(4);
      expect(any.metadata.continue).to.equal(undefined);
    });

    it('a continue token older than the history floor is 410 Expired (history expired between pages)', async () => {
      api = await TestApiServer.start();
      seed();
      const seen: string[] = [];
      api.afterListPage = (p) => {
        seen.push(`${p.resource}@${p.resourceVersion}`);
        // A write, then compaction past the snapshot, before the client asks again.
        api.create('services', service('d', 's1', '10.0.0.6'));
        api.expireHistory();
      };
      const rv = api.resourceVersion;
      const first = await get('/api/v1/services?limit=2');
      expect(seen).to.deep.equal([`services@${rv}`]);
      const gone = await get(`/api/v1/services?limit=2&continue=${first.metadata.continue}`);
      expect(gone).to.deep.include({ http: 410, code: 410, reason: 'Expired' });
      expect(gone.message).to.equal(
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
      );
    });

    it('400 for continue with a resourceVersion and for a token that does not decode; 422 with resourceVersionMatch', async () => {
      api = await TestApiServer.start();
      seed();
      const first = await get('/api/v1/services?limit=2');
      const cont = first.metadata.continue ?? '';
      const withRv = await get(`/api/v1/services?limit=2&continue=${cont}&resourceVersion=3`);
      expect(withRv).to.deep.include({ http: 400, reason: 'BadRequest' });
      expect(withRv.message).to.equal(
        'specifying resource version is not allowed when using continue',
      );
      // resourceVersion=0 is allowed beside continue, as in kube-apiserver.
      const zero = await get(`/api/v1/services?limit=2&continue=${cont}&resourceVersion=0`);
      expect(names(zero)).to.deep.equal(['a/s2', 'b/s1']);
      for (const bad of [
        'not*base64',
        Buffer.from('not json').toString('base64url'),
        Buffer.from(JSON.stringify({ v: 'other/v1', rv: 3, start: 'a/' })).toString('base64url'),
        Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 'x', start: 'a/' })).toString(
          'base64url',
        ),
      ]) {
        const r = await get(`/api/v1/services?limit=2&continue=${bad}`);
        expect(r, bad).to.deep.include({ http: 400, reason: 'BadRequest' });
        expect(r.message, bad).to.match(/^invalid continue token: /);
      }
      const match = await get(
        `/api/v1/services?limit=2&continue=${cont}&resourceVersionMatch=Exact`,
      );
      expect(match).to.deep.include({ http: 422, reason: 'Invalid' });
      expect((await get('/api/v1/services?limit=x')).http).to.equal(400);
    });

    it('listChunking: false ignores limit and continue, as a server without chunking', async () => {
      api = await TestApiServer.start({ listChunking: false });
      seed();
      const all = await get('/api/v1/services?limit=2');
      expect(names(all)).to.deep.equal(['a-b/s3', 'a/s1', 'a/s2', 'b/s1', 'c/s1']);
      expect(all.metadata).to.deep.equal({ resourceVersion: String(api.resourceVersion) });
      const again = await get('/api/v1/services?limit=2&continue=whatever');
      expect(again.http).to.equal(200);
      expect(again.items).to.have.length(5);
    });
  });
});
