// reconcile/diff holdsExactly: the resync's shortcut past diffEntry. Wherever it says the
// kernel holds a virtual server exactly, diffEntry of the converted entry has nothing to
// do; and it says so for the converted entry itself, in either order of real servers.
import { expect } from 'chai';
import fc from 'fast-check';
import type { IpvsDestination } from '../../../bindings/ipvs/types.js';
import {
  isDestinationOf,
  toIpvsDestinations,
  toIpvsEntry,
  type IpvsEntry,
} from '../../../lib/backends/ipvs/convert.js';
import { virtualServerKey, type VirtualServer } from '../../../lib/model/types.js';
import { diffEntry, holdsExactly, sameDestination } from '../../../lib/reconcile/diff.js';
import type { DrainClock } from '../../../lib/reconcile/drain.js';

const CLOCK: DrainClock = { now: 1000, timeoutMs: 60_000, since: () => undefined };

const arbRealServer = fc.record({
  address: fc.constantFrom('10.244.0.1', '10.244.0.2', '10.244.1.9'),
  port: fc.constantFrom(8080, 9090),
  weight: fc.constantFrom(0, 1, 5),
});

const arbVs = fc
  .record({
    protocol: fc.constantFrom<'TCP' | 'UDP'>('TCP', 'UDP'),
    scheduler: fc.constantFrom<'rr' | 'sh'>('rr', 'sh'),
    persistenceTimeout: fc.constantFrom(0, 10800),
    realServers: fc.uniqueArray(arbRealServer, {
      selector: (r) => `${r.address}:${r.port}`,
      maxLength: 4,
    }),
  })
  .map((r): VirtualServer => ({
    key: virtualServerKey(r.protocol, '10.96.0.10', 80),
    family: 'IPv4',
    protocol: r.protocol,
    address: '10.96.0.10',
    port: 80,
    scheduler: r.scheduler,
    schedulerFlags: [],
    persistenceTimeout: r.persistenceTimeout,
    netmask: 32,
    trafficPolicy: 'Cluster',
    realServers: r.realServers,
    owner: { namespace: 'ns', name: 'svc', portName: '', servicePort: 80, kind: 'ClusterIP' },
  }));

/** A destination's numbers that tell it apart: its port and what SET_DEST sets. */
const NUMERIC_FIELDS = [
  'port',
  'weight',
  'forward',
  'upperThreshold',
  'lowerThreshold',
  'tunType',
  'tunPort',
  'tunFlags',
] as const;

/** The kernel's entry: the converted one, reordered, or changed in one field or list. */
const arbHave = (vs: VirtualServer): fc.Arbitrary<IpvsEntry> => {
  const base = toIpvsEntry(vs);
  const field = fc.constantFrom(...NUMERIC_FIELDS);
  return fc.oneof(
    fc.constant(base),
    fc.constant({ ...base, destinations: [...base.destinations].reverse() }),
    fc.shuffledSubarray(base.destinations).map((ds) => ({ ...base, destinations: ds })),
    fc.constant({ ...base, service: { ...base.service, scheduler: 'lc' } }),
    fc.tuple(fc.nat(3), field).map(([i, f]) => ({
      ...base,
      destinations: base.destinations.map((d, j) =>
        j === i % Math.max(1, base.destinations.length) ? { ...d, [f]: Number(d[f]) + 1 } : d,
      ),
    })),
    arbRealServer.map((extra) => ({
      ...base,
      destinations: [...base.destinations, ...toIpvsDestinations({ ...vs, realServers: [extra] })],
    })),
  );
};

describe('reconcile/diff holdsExactly', () => {
  it('property: where it holds, diffEntry finds nothing to do and nothing draining', () => {
    fc.assert(
      fc.property(
        arbVs.chain((vs) => fc.tuple(fc.constant(vs), arbHave(vs))),
        ([vs, have]) => {
          if (!holdsExactly(have, vs)) return;
          const d = diffEntry(vs.key, toIpvsEntry(vs), have, CLOCK);
          expect(d.ops).to.deep.equal([]);
          expect(d.draining).to.deep.equal([]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: the converted entry holds, with its real servers in either order', () => {
    fc.assert(
      fc.property(arbVs, (vs) => {
        const e = toIpvsEntry(vs);
        expect(holdsExactly(e, vs)).to.equal(true);
        expect(holdsExactly({ ...e, destinations: [...e.destinations].reverse() }, vs)).to.equal(
          true,
        );
      }),
    );
  });

  it('property: isDestinationOf is toIpvsDestinations compared: address, port and every SET_DEST field', () => {
    const fields = ['address', ...NUMERIC_FIELDS] as const;
    fc.assert(
      fc.property(
        arbVs,
        arbRealServer,
        fc.constantFrom(...fields),
        fc.nat(2),
        (vs, rs, f, bump) => {
          const [made] = toIpvsDestinations({ ...vs, realServers: [rs] });
          if (!made) throw new Error('no destination');
          expect(isDestinationOf(made, rs)).to.equal(true);
          const other: IpvsDestination = {
            ...made,
            [f]: f === 'address' ? (bump ? '10.9.9.9' : made.address) : Number(made[f]) + bump,
          };
          const same =
            other.address === made.address &&
            other.port === made.port &&
            sameDestination(made, other);
          expect(isDestinationOf(other, rs)).to.equal(same);
        },
      ),
    );
  });
});
