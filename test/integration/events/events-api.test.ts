// Events through client-node against the test API server: the fixture's events.k8s.io/v1
// resource (create, get, list, patch in each content type, the server's validation), and
// the recorder writing through KubeEventSink as the daemon does.
import { expect } from 'chai';
import { EventsV1Api, KubeConfig } from '@kubernetes/client-node';
import { TestApiServer, type KubeObject } from '../../fixtures/apiserver/index.js';
import { EventRecorder } from '../../../lib/events/recorder.js';
import { KubeEventSink, SERIES_PATCH_TYPE, toEventsV1 } from '../../../lib/events/kube-sink.js';
import { Correlator } from '../../../lib/events/correlator.js';
import { invalidSchedulerEvent, backendFallbackEvent } from '../../../lib/events/specs.js';

const EVENTS = 'events.k8s.io/events';
const svcRef = { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web', uid: 'u-1' };

function validEvent(name: string): KubeObject {
  return {
    metadata: { name, namespace: 'default' },
    eventTime: '2026-12-01T10:00:00.000000Z',
    reportingController: 'kube-ipvs.io/kube-ipvs',
    reportingInstance: 'node-a',
    action: 'Translate',
    reason: 'InvalidSchedulerAnnotation',
    note: 'bad',
    type: 'Warning',
    regarding: svcRef,
  };
}

async function send(
  api: TestApiServer,
  method: string,
  path: string,
  body: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: KubeObject & { message?: string; reason?: string } }> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'content-type': contentType },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as KubeObject };
}

const path = (name = '') =>
  `/apis/events.k8s.io/v1/namespaces/default/events${name ? `/${name}` : ''}`;

describe('events.k8s.io/v1 through client-node and the test API server', function () {
  this.timeout(20000);
  let api: TestApiServer;
  let kc: KubeConfig;
  beforeEach(async () => {
    api = await TestApiServer.start();
    kc = new KubeConfig();
    kc.loadFromFile(api.writeKubeconfig());
  });
  afterEach(async () => api?.close());

  it('client-node sends application/json-patch+json unless told otherwise; the server applies it', async function () {
    const client = kc.makeApiClient(EventsV1Api);
    await client.createNamespacedEvent({ namespace: 'default', body: validEvent('e1') as never });
    const patched = await client.patchNamespacedEvent({
      name: 'e1',
      namespace: 'default',
      body: [
        {
          op: 'add',
          path: '/series',
          value: { count: 2, lastObservedTime: '2026-12-01T10:00:05.000000Z' },
        },
      ],
    });
    const patch = api.requests.find((r) => r.method === 'PATCH');
    expect(patch?.contentType).to.equal('application/json-patch+json');
    expect(patch?.status ?? 200).to.equal(200);
    expect(patched.series?.count).to.equal(2);
  });

  it('create, get, list and a strategic merge patch of series keep resourceVersion order', async function () {
    const created = await send(api, 'POST', path(), validEvent('e1'));
    expect(created.status).to.equal(201);
    const rv1 = Number(created.body.metadata?.resourceVersion);
    const patched = await send(
      api,
      'PATCH',
      path('e1'),
      { series: { count: 2, lastObservedTime: '2026-12-01T10:00:05.000000Z' } },
      SERIES_PATCH_TYPE,
    );
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(Number(patched.body.metadata?.resourceVersion)).to.be.greaterThan(rv1);
    expect(patched.body.metadata?.uid).to.equal(created.body.metadata?.uid);
    const got = (await (await fetch(`${api.url}${path('e1')}`)).json()) as KubeObject;
    expect(got.series).to.deep.equal({ count: 2, lastObservedTime: '2026-12-01T10:00:05.000000Z' });
    expect(got.kind).to.equal('Event');
    expect(got.apiVersion).to.equal('events.k8s.io/v1');
    const list = (await (await fetch(`${api.url}/apis/events.k8s.io/v1/events`)).json()) as {
      kind: string;
      items: KubeObject[];
    };
    expect(list.kind).to.equal('EventList');
    expect(list.items.map((i) => i.metadata?.name)).to.deep.equal(['e1']);
    const merge = await send(
      api,
      'PATCH',
      path('e1'),
      { series: { count: 3 } },
      'application/merge-patch+json',
    );
    expect(merge.body.series).to.deep.equal({
      count: 3,
      lastObservedTime: '2026-12-01T10:00:05.000000Z',
    });
  });

  it('refuses what the real server refuses: missing fields, series count < 2, changed immutable fields', async function () {
    const bad = await send(api, 'POST', path(), {
      ...validEvent('e2'),
      eventTime: undefined,
      reportingController: undefined,
      type: 'Info',
    });
    expect(bad.status).to.equal(422);
    expect(bad.body.reason).to.equal('Invalid');
    expect(bad.body.message).to.contain('eventTime: Required value');
    expect(bad.body.message).to.contain('reportingController: Required value');
    expect(bad.body.message).to.contain('type: Invalid value');
    const one = await send(api, 'POST', path(), {
      ...validEvent('e3'),
      series: { count: 1, lastObservedTime: '2026-12-01T10:00:05.000000Z' },
    });
    expect(one.body.message).to.contain('series.count');
    expect((await send(api, 'POST', path(), validEvent('e4'))).status).to.equal(201);
    const note = await send(api, 'PATCH', path('e4'), { note: 'other' }, SERIES_PATCH_TYPE);
    expect(note.status).to.equal(422);
    expect(note.body.message).to.contain('note: Invalid value: "": field is immutable');
    const dup = await send(api, 'POST', path(), validEvent('e4'));
    expect(dup.status).to.equal(409);
    const missing = await send(api, 'PATCH', path('nope'), { series: {} }, SERIES_PATCH_TYPE);
    expect(missing.status).to.equal(404);
  });

  it('toEventsV1 prints MicroTimes with six fractional digits, as the API server parses them', function () {
    const c = new Correlator('node-a');
    const o = c.observe(
      invalidSchedulerEvent(svcRef, 'f', 'r'),
      Date.UTC(2026, 11, 1, 10, 0, 0, 123),
    );
    const w = c.next(o.key);
    if (!w) throw new Error('no write');
    const json = JSON.parse(JSON.stringify(toEventsV1(w.event))) as { eventTime: string };
    expect(json.eventTime).to.equal('2026-12-01T10:00:00.123000Z');
  });

  it('the recorder through KubeEventSink: one Event, repeats counted in series by strategic merge patch', async function () {
    let now = Date.UTC(2026, 11, 1, 10, 0, 0);
    const debug: string[] = [];
    const r = new EventRecorder({
      sink: new KubeEventSink(kc),
      nodeName: 'node-a',
      log: { debug: (o, m) => debug.push(`${m} ${JSON.stringify(o)}`) },
      now: () => now,
    });
    const spec = invalidSchedulerEvent(
      svcRef,
      'metadata.annotations["kube-ipvs.io/scheduler"]',
      'bad',
    );
    for (let i = 0; i < 3; i++) {
      r.record(spec);
      await r.flush(5000);
      now += 1000;
    }
    expect(debug).to.deep.equal([]);
    const events = api.list(EVENTS);
    expect(events).to.have.length(1);
    const e = events[0] as KubeObject;
    expect(e).to.deep.include({
      reportingController: 'kube-ipvs.io/kube-ipvs',
      reportingInstance: 'node-a',
      action: 'Translate',
      reason: 'InvalidSchedulerAnnotation',
      type: 'Warning',
      regarding: svcRef,
      eventTime: '2026-12-01T10:00:00.000000Z',
    });
    expect(e.series).to.deep.equal({ count: 3, lastObservedTime: '2026-12-01T10:00:02.000000Z' });
    const writes = api.requests
      .filter((q) => q.path.startsWith('/apis/events.k8s.io'))
      .map((q) => `${q.method} ${q.contentType ?? ''}`);
    expect(writes).to.deep.equal([
      'POST application/json',
      `PATCH ${SERIES_PATCH_TYPE}`,
      `PATCH ${SERIES_PATCH_TYPE}`,
    ]);
  });

  it('a Node Event (backend fallback) goes to the default namespace with uid = node name', async function () {
    const r = new EventRecorder({
      sink: new KubeEventSink(kc),
      nodeName: 'node-a',
      log: { debug: () => undefined },
    });
    r.record(backendFallbackEvent('node-a', 'the kernel has no IPVS generic netlink family'));
    await r.flush(5000);
    const [e] = api.list(EVENTS, 'default');
    expect(e?.regarding).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Node',
      name: 'node-a',
      uid: 'node-a',
    });
    expect(e?.reason).to.equal('BackendFallback');
  });

  it('write failures reach only the debug log', async function () {
    const debug: string[] = [];
    const r = new EventRecorder({
      sink: new KubeEventSink(kc),
      nodeName: 'node-a',
      log: { debug: (o, m) => debug.push(`${m} ${JSON.stringify(o)}`) },
    });
    api.failRequests({ count: 1, code: 500, resource: EVENTS });
    r.record(invalidSchedulerEvent(svcRef, 'f', 'r'));
    await r.flush(5000);
    expect(debug).to.have.length(1);
    expect(debug[0]).to.match(/^writing an event failed .*HTTP 500/);
  });
});
