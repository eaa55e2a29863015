// events/recorder: writes in order through a sink, a repeat as a series patch, failures
// logged at debug and never thrown, a lost Event created again.
import { expect } from 'chai';
import { EventRecorder } from '../../../lib/events/recorder.js';
import {
  EventWriteError,
  type EventBody,
  type EventSeries,
  type EventSink,
  type EventSpec,
} from '../../../lib/events/types.js';

class FakeSink implements EventSink {
  readonly calls: Array<{ op: 'create' | 'patch'; name: string; count: number }> = [];
  failNext: EventWriteError | undefined;
  create(e: EventBody): Promise<void> {
    return this.take({ op: 'create', name: e.metadata.name, count: e.series?.count ?? 1 });
  }
  patchSeries(e: EventBody & { series: EventSeries }): Promise<void> {
    return this.take({ op: 'patch', name: e.metadata.name, count: e.series.count });
  }
  private take(c: { op: 'create' | 'patch'; name: string; count: number }): Promise<void> {
    this.calls.push(c);
    const f = this.failNext;
    this.failNext = undefined;
    return f ? Promise.reject(f) : Promise.resolve();
  }
}

const spec: EventSpec = {
  regarding: { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web' },
  type: 'Warning',
  reason: 'KernelRejected',
  action: 'Sync',
  note: 'the kernel refused addService',
};

function setup() {
  const sink = new FakeSink();
  const debug: string[] = [];
  let now = 1000;
  const r = new EventRecorder({
    sink,
    nodeName: 'node-a',
    log: { debug: (_o, m) => debug.push(m) },
    now: () => now,
  });
  return { sink, debug, r, tick: () => (now += 1000) };
}

describe('events/recorder', function () {
  it('three occurrences: one create, then two patches of its series (count 2, 3), in order', async function () {
    const { sink, r, tick } = setup();
    r.record(spec);
    await r.flush(1000);
    tick();
    r.record(spec);
    await r.flush(1000);
    tick();
    r.record(spec);
    await r.flush(1000);
    const name = sink.calls[0]?.name;
    expect(sink.calls).to.deep.equal([
      { op: 'create', name, count: 1 },
      { op: 'patch', name, count: 2 },
      { op: 'patch', name, count: 3 },
    ]);
  });

  it('occurrences while a write waits ride on it: one create carrying the count, never a duplicate', async function () {
    const { sink, r } = setup();
    for (let i = 0; i < 4; i++) r.record(spec);
    await r.flush(1000);
    r.record(spec);
    await r.flush(1000);
    expect(sink.calls.map((c) => [c.op, c.count])).to.deep.equal([
      ['create', 4],
      ['patch', 5],
    ]);
  });

  it('a failed write is logged at debug, never thrown, and the next occurrence tries again', async function () {
    const { sink, r, debug } = setup();
    sink.failNext = new EventWriteError('HTTP 500: boom', 500);
    expect(() => r.record(spec)).not.to.throw();
    await r.flush(1000);
    expect(debug).to.include('writing an event failed');
    r.record(spec);
    await r.flush(1000);
    // Never created: created now, carrying both occurrences.
    expect(sink.calls.map((c) => [c.op, c.count])).to.deep.equal([
      ['create', 1],
      ['create', 2],
    ]);
  });

  it('a patch of an Event the server no longer has (404) creates it again with its series', async function () {
    const { sink, r } = setup();
    r.record(spec);
    await r.flush(1000);
    sink.failNext = new EventWriteError('HTTP 404: not found', 404);
    r.record(spec);
    await r.flush(1000);
    expect(sink.calls.map((c) => [c.op, c.count])).to.deep.equal([
      ['create', 1],
      ['patch', 2],
      ['create', 2],
    ]);
  });

  it('a create answered 409 (an earlier attempt got through) counts as written and updates the series', async function () {
    const { sink, r } = setup();
    sink.failNext = new EventWriteError('HTTP 500', 500);
    r.record(spec);
    await r.flush(1000);
    sink.failNext = new EventWriteError('HTTP 409: exists', 409);
    r.record(spec);
    await r.flush(1000);
    r.record(spec);
    await r.flush(1000);
    expect(sink.calls.map((c) => [c.op, c.count])).to.deep.equal([
      ['create', 1],
      ['create', 2],
      ['patch', 2],
      ['patch', 3],
    ]);
  });

  it('beyond the burst, occurrences are not written (debug), and a write that is due carries the count', async function () {
    const sink = new FakeSink();
    const debug: string[] = [];
    let now = 0;
    const r = new EventRecorder({
      sink,
      nodeName: 'n',
      log: { debug: (_o, m) => debug.push(m) },
      now: () => now,
      limiter: { burst: 2, refillMs: 60_000, maxKeys: 10 },
    });
    for (let i = 0; i < 5; i++) {
      r.record(spec);
      await r.flush(1000);
    }
    expect(sink.calls.map((c) => [c.op, c.count])).to.deep.equal([
      ['create', 1],
      ['patch', 2],
    ]);
    expect(debug.filter((m) => m === 'event rate-limited')).to.have.length(3);
    now = 60_000;
    r.record(spec);
    await r.flush(1000);
    expect(sink.calls.at(-1)).to.include({ op: 'patch', count: 6 });
  });
});
