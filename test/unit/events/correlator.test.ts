// events/correlator: the first occurrence creates an Event, a repeat of the same (regarding,
// reason, note, type) counts up its series, and the per-object bucket limits writes.
import { expect } from 'chai';
import { Correlator, cutNote, REPORTING_CONTROLLER } from '../../../lib/events/correlator.js';
import type { EventSpec } from '../../../lib/events/types.js';

const web = { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web', uid: 'u-1' };
const spec = (over: Partial<EventSpec> = {}): EventSpec => ({
  regarding: web,
  type: 'Warning',
  reason: 'InvalidSchedulerAnnotation',
  action: 'Translate',
  note: 'bad scheduler',
  ...over,
});

/** Observes and returns the write due now (undefined when the bucket refused it). */
function step(c: Correlator, s: EventSpec, now: number) {
  const o = c.observe(s, now);
  return { key: o.key, count: o.count, write: o.write ? c.next(o.key) : undefined };
}

describe('events/correlator (series and rate limit, as client-go)', function () {
  it('creates the first occurrence as an events.k8s.io/v1 Event of this node, in its namespace', function () {
    const c = new Correlator('node-a');
    const d = step(c, spec(), 1_700_000_000_123).write;
    expect(d?.kind).to.equal('create');
    expect(d?.event).to.deep.equal({
      metadata: {
        name: `web.${(1_700_000_000_123n * 1_000_000n).toString(16)}`,
        namespace: 'default',
      },
      eventTime: new Date(1_700_000_000_123),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: 'node-a',
      action: 'Translate',
      reason: 'InvalidSchedulerAnnotation',
      note: 'bad scheduler',
      type: 'Warning',
      regarding: web,
    });
    expect(REPORTING_CONTROLLER).to.equal('kube-ipvs.io/kube-ipvs');
  });

  it('a repeat after the create patches series.count and series.lastObservedTime of the same Event', function () {
    const c = new Correlator('node-a');
    const first = step(c, spec(), 1000);
    c.written(first.key);
    const second = step(c, spec(), 5000).write;
    const third = step(c, spec(), 9000).write;
    if (first.write?.kind !== 'create' || second?.kind !== 'patch' || third?.kind !== 'patch')
      throw new Error('unexpected writes');
    expect(second.event.metadata).to.deep.equal(first.write.event.metadata);
    expect(second.event.series).to.deep.equal({ count: 2, lastObservedTime: new Date(5000) });
    expect(third.event.series).to.deep.equal({ count: 3, lastObservedTime: new Date(9000) });
    // eventTime stays the first occurrence's.
    expect(third.event.eventTime).to.deep.equal(new Date(1000));
  });

  it('a different note, reason, type or object is another Event, not a repeat', function () {
    const c = new Correlator('node-a');
    const base = step(c, spec(), 1000);
    c.written(base.key);
    for (const other of [
      spec({ note: 'other note' }),
      spec({ reason: 'ServiceSkipped' }),
      spec({ type: 'Normal' }),
      spec({ regarding: { ...web, name: 'api' } }),
      spec({ regarding: { ...web, uid: 'u-2' } }),
    ]) {
      const d = step(c, other, 2000);
      expect(d.write?.kind, JSON.stringify(other)).to.equal('create');
      expect(d.key).not.to.equal(base.key);
    }
  });

  it('two Events of one object in the same millisecond get different names', function () {
    const c = new Correlator('node-a');
    const a = step(c, spec({ note: 'a' }), 1000).write;
    const b = step(c, spec({ note: 'b' }), 1000).write;
    expect(a?.event.metadata.name).not.to.equal(b?.event.metadata.name);
  });

  it('a repeat before the create succeeded creates (with its series), and an Event lost on the server is created again', function () {
    const c = new Correlator('node-a');
    step(c, spec(), 1000); // its create failed: never marked written
    const again = step(c, spec(), 2000);
    expect(again.write?.kind).to.equal('create');
    expect(again.write?.event.series).to.deep.equal({ count: 2, lastObservedTime: new Date(2000) });
    c.written(again.key);
    expect(c.next(again.key)?.kind).to.equal('patch');
    c.lost(again.key);
    const recreate = c.next(again.key);
    expect(recreate?.kind).to.equal('create');
    expect(recreate?.event.series?.count).to.equal(2);
  });

  it('rate limit: 25 writes per object at once, then one per 5 minutes, counting what it held back', function () {
    const c = new Correlator('node-a');
    const t0 = 10_000_000;
    const kinds: string[] = [];
    for (let i = 0; i < 30; i++) {
      const d = step(c, spec(), t0 + i);
      if (d.write?.kind === 'create') c.written(d.key);
      kinds.push(d.write?.kind ?? 'limited');
    }
    expect(kinds.filter((k) => k === 'create')).to.have.length(1);
    expect(kinds.filter((k) => k === 'patch')).to.have.length(24);
    expect(kinds.slice(25)).to.deep.equal(Array(5).fill('limited'));
    // Another object is not held back by this one's bucket.
    expect(step(c, spec({ regarding: { ...web, name: 'api' } }), t0 + 30).write?.kind).to.equal(
      'create',
    );
    // Five minutes on, one write, carrying every occurrence so far.
    const later = step(c, spec(), t0 + 300_029).write;
    expect(later?.kind).to.equal('patch');
    expect(later?.event.series?.count).to.equal(31);
    expect(step(c, spec(), t0 + 300_030).write).to.equal(undefined);
  });

  it('cuts a note to the API server limit of 1024 bytes without splitting a character', function () {
    expect(cutNote('short')).to.equal('short');
    const long = 'é'.repeat(600); // 1200 bytes
    const cut = cutNote(long);
    expect(Buffer.byteLength(cut)).to.be.at.most(1024);
    expect(cut.endsWith('é...')).to.equal(true);
  });

  it('Events about a cluster-scoped object (a Node) go to the default namespace', function () {
    const c = new Correlator('node-a');
    const d = step(
      c,
      spec({ regarding: { apiVersion: 'v1', kind: 'Node', name: 'node-a', uid: 'node-a' } }),
      1,
    ).write;
    expect(d?.event.metadata.namespace).to.equal('default');
  });
});
