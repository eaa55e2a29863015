// reconcile/diff: desired vs observed → operations. The properties apply the operations
// with a small kernel model written here, independent of reconcile/observed.ts.
import { expect } from 'chai';
import fc from 'fast-check';
import type { IpvsOp } from '../../../bindings/ipvs/client.js';
import type { IpvsDestination, IpvsService } from '../../../bindings/ipvs/types.js';
import { ipvsDestination, ipvsService } from '../../fixtures/ipvs-objects.js';
import type { IpvsEntry } from '../../../lib/backends/ipvs/convert.js';
import { diffAddresses, diffEntry, orderOps, type Op } from '../../../lib/reconcile/diff.js';
import type { DrainClock } from '../../../lib/reconcile/drain.js';
import type { VirtualServerKey } from '../../../lib/model/types.js';

const KEY = 'TCP/10.96.0.10:80' as VirtualServerKey;

const service = ipvsService;
const dest = ipvsDestination;

const entry = (s: IpvsService, ds: IpvsDestination[]): IpvsEntry => ({
  service: s,
  destinations: ds,
});

function clock(now = 1000, timeoutMs = 60_000, since: Record<string, number> = {}): DrainClock {
  return { now, timeoutMs, since: (k) => since[k] };
}

/** The kernel as far as the ops touch it: one service and its destinations by address. */
function applyToKernel(e: IpvsEntry | undefined, ops: readonly IpvsOp[]): IpvsEntry | undefined {
  let cur = e && { service: e.service, destinations: [...e.destinations] };
  for (const op of ops) {
    switch (op.op) {
      case 'addService':
        expect(cur, 'addService on an existing service').to.equal(undefined);
        cur = { service: op.service, destinations: [] };
        break;
      case 'updateService':
        if (!cur) throw new Error('updateService without a service');
        cur = { service: op.service, destinations: cur.destinations };
        break;
      case 'deleteService':
        cur = undefined;
        break;
      case 'addDestination': {
        if (!cur) throw new Error('addDestination without a service');
        const d = op.destination;
        expect(cur.destinations.some((x) => x.address === d.address && x.port === d.port)).to.equal(
          false,
        );
        cur.destinations.push(d);
        break;
      }
      case 'updateDestination': {
        if (!cur) throw new Error('updateDestination without a service');
        const d = op.destination;
        const i = cur.destinations.findIndex((x) => x.address === d.address && x.port === d.port);
        expect(i).to.be.at.least(0);
        cur.destinations[i] = d;
        break;
      }
      case 'deleteDestination': {
        if (!cur) throw new Error('deleteDestination without a service');
        const d = op.destination;
        cur.destinations = cur.destinations.filter(
          (x) => !(x.address === d.address && x.port === d.port),
        );
        break;
      }
    }
  }
  return cur;
}

/** What a comparison of kernel state looks at: no counters. */
function shape(e: IpvsEntry | undefined): unknown {
  if (!e) return undefined;
  return {
    service: e.service,
    destinations: e.destinations
      .map((d) => ({ ...d, activeConns: undefined, inactiveConns: undefined }))
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port)),
  };
}

const arbAddress = fc.constantFrom('10.244.0.1', '10.244.0.2', '10.244.0.3', '10.244.1.9');
const arbDest = fc.record({
  address: arbAddress,
  port: fc.constantFrom(8080, 9090),
  weight: fc.constantFrom(0, 1, 5),
  conns: fc.nat(3),
});
const arbEntry = (protocol: 6 | 17) =>
  fc
    .option(
      fc.record({
        scheduler: fc.constantFrom('rr', 'sh', 'lc'),
        timeout: fc.constantFrom(0, 10800),
        dests: fc.uniqueArray(arbDest, { selector: (d) => `${d.address}:${d.port}` }),
      }),
      { nil: undefined },
    )
    .map((r) =>
      r === undefined
        ? undefined
        : entry(
            service({
              protocol,
              scheduler: r.scheduler,
              timeout: r.timeout,
              flags: r.timeout ? 1 : 0,
            }),
            r.dests.map((d) =>
              dest(d.address, {
                port: d.port,
                weight: d.weight,
                activeConns: d.conns,
                inactiveConns: 0,
              }),
            ),
          ),
    );

describe('reconcile/diff', () => {
  it('R8.1: a new virtual server is added with all its real servers', () => {
    const want = entry(service(), [dest('10.244.0.1'), dest('10.244.0.2')]);
    const d = diffEntry(KEY, want, undefined, clock());
    expect(d.ops.map((o) => o.op)).to.deep.equal([
      'addService',
      'addDestination',
      'addDestination',
    ]);
  });

  it('changes a scheduler in place (SET_SERVICE), never delete and re-add', () => {
    const have = entry(service(), [dest('10.244.0.1')]);
    const want = entry(service({ scheduler: 'sh' }), [dest('10.244.0.1')]);
    const d = diffEntry(KEY, want, have, clock());
    expect(d.ops).to.deep.equal([{ op: 'updateService', service: want.service }]);
  });

  it('R1.4 G-18: a removed TCP real server with connections drains at weight 0', () => {
    const gone = dest('10.244.0.2', { activeConns: 1, inactiveConns: 0 });
    const have = entry(service(), [dest('10.244.0.1'), gone]);
    const want = entry(service(), [dest('10.244.0.1')]);
    const d = diffEntry(KEY, want, have, clock());
    expect(d.ops).to.deep.equal([
      { op: 'updateDestination', service: want.service, destination: { ...gone, weight: 0 } },
    ]);
    expect(d.draining).to.deep.equal([`${KEY}>10.244.0.2:8080`]);
    // Already at weight 0 and still busy: nothing to do, still draining.
    const again = diffEntry(
      KEY,
      want,
      entry(service(), [dest('10.244.0.1'), { ...gone, weight: 0 }]),
      clock(),
    );
    expect(again.ops).to.deep.equal([]);
    expect(again.draining).to.have.length(1);
  });

  it('R1.4 G-18: a draining real server goes when its connections reach 0 or the timeout passes', () => {
    const want = entry(service(), []);
    const idle = dest('10.244.0.2', { weight: 0, activeConns: 0, inactiveConns: 0 });
    expect(diffEntry(KEY, want, entry(service(), [idle]), clock()).ops[0]?.op).to.equal(
      'deleteDestination',
    );
    const busy = dest('10.244.0.2', { weight: 0, activeConns: 2, inactiveConns: 1 });
    const rs = `${KEY}>10.244.0.2:8080`;
    const early = diffEntry(
      KEY,
      want,
      entry(service(), [busy]),
      clock(60_000, 60_000, { [rs]: 1 }),
    );
    expect(early.ops).to.deep.equal([]);
    const late = diffEntry(KEY, want, entry(service(), [busy]), clock(60_001, 60_000, { [rs]: 1 }));
    expect(late.ops.map((o) => o.op)).to.deep.equal(['deleteDestination']);
  });

  it('R1.4 G-18: a removed UDP real server is deleted at once, busy or not', () => {
    const udp = service({ protocol: 17, port: 53 });
    const busy = dest('10.244.0.2', { activeConns: 3, inactiveConns: 3 });
    const d = diffEntry(
      'UDP/10.96.0.10:53' as VirtualServerKey,
      entry(udp, []),
      entry(udp, [busy]),
      clock(),
    );
    expect(d.ops).to.deep.equal([{ op: 'deleteDestination', service: udp, destination: busy }]);
    expect(d.draining).to.deep.equal([]);
  });

  it('a draining real server that is wanted again gets its weight back', () => {
    const have = entry(service(), [dest('10.244.0.2', { weight: 0, activeConns: 4 })]);
    const want = entry(service(), [dest('10.244.0.2')]);
    const d = diffEntry(KEY, want, have, clock());
    expect(d.ops).to.deep.equal([
      { op: 'updateDestination', service: want.service, destination: want.destinations[0] },
    ]);
    expect(d.draining).to.deep.equal([]);
  });

  it('an unwanted virtual server is deleted', () => {
    const have = entry(service(), [dest('10.244.0.1')]);
    expect(diffEntry(KEY, undefined, have, clock()).ops).to.deep.equal([
      { op: 'deleteService', service: have.service },
    ]);
  });

  for (const protocol of [6, 17] as const) {
    const name = protocol === 6 ? 'TCP' : 'UDP';
    it(`property (${name}): diff(a, a) is empty`, () => {
      fc.assert(
        fc.property(arbEntry(protocol), (a) => {
          const key = `${name}/10.96.0.10:80` as VirtualServerKey;
          const want = a && { ...a, destinations: a.destinations.filter((d) => d.weight > 0) };
          // Only a state with no draining leftovers is a fixed point: take the wanted one.
          expect(diffEntry(key, want, want, clock()).ops).to.deep.equal([]);
        }),
      );
    });

    it(`property (${name}): applying diff(a → b) to a gives b, plus draining TCP real servers at weight 0`, () => {
      let nonEmpty = 0;
      fc.assert(
        fc.property(arbEntry(protocol), arbEntry(protocol), (a, bRaw) => {
          const key = `${name}/10.96.0.10:80` as VirtualServerKey;
          // Desired real servers always carry weight 1 and no counters, as translate gives them.
          const b = bRaw && {
            service: bRaw.service,
            destinations: bRaw.destinations.map((d) => dest(d.address, { port: d.port })),
          };
          const d = diffEntry(key, b, a, clock());
          if (d.ops.length > 0) nonEmpty++;
          const got = applyToKernel(a, d.ops);
          if (!b) {
            expect(got).to.equal(undefined);
            return;
          }
          const wanted = new Set(b.destinations.map((x) => `${x.address}:${x.port}`));
          const kept = (a?.destinations ?? []).filter(
            (x) =>
              !wanted.has(`${x.address}:${x.port}`) &&
              protocol === 6 &&
              (x.activeConns ?? 0) + (x.inactiveConns ?? 0) > 0 &&
              a !== undefined,
          );
          const expected = {
            service: b.service,
            destinations: [...b.destinations, ...kept.map((x) => ({ ...x, weight: 0 }))],
          };
          expect(shape(got)).to.deep.equal(shape(expected));
          expect(d.draining.length).to.equal(kept.length);
        }),
        { numRuns: 500 },
      );
      // Guard: the generator must produce real changes, or the property proves nothing.
      expect(nonEmpty).to.be.greaterThan(200);
    });
  }

  it('addresses: binds the missing and unbinds the unwanted', () => {
    expect(
      diffAddresses(new Set(['10.0.0.1', '10.0.0.2']), new Set(['10.0.0.2', '10.0.0.3'])),
    ).to.deep.equal([
      { op: 'bindAddress', address: '10.0.0.1' },
      { op: 'unbindAddress', address: '10.0.0.3' },
    ]);
  });

  it('orders a batch: bind, changes, service deletions, unbind', () => {
    const s = service();
    const ops: Op[] = [
      { op: 'unbindAddress', address: '10.0.0.3' },
      { op: 'deleteService', service: s },
      { op: 'addService', service: s },
      { op: 'addDestination', service: s, destination: dest('10.244.0.1') },
      { op: 'bindAddress', address: '10.0.0.1' },
    ];
    expect(orderOps(ops).map((o) => o.op)).to.deep.equal([
      'bindAddress',
      'addService',
      'addDestination',
      'deleteService',
      'unbindAddress',
    ]);
  });
});
