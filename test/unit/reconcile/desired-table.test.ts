// reconcile/desired-table: the per-event desired table agrees with the model's whole-node
// conflict resolution (collectDesired) after any sequence of Service updates.
import { expect } from 'chai';
import fc from 'fast-check';
import { collectDesired } from '../../../lib/model/desired.js';
import { virtualServerKey, type EntryKind, type VirtualServer } from '../../../lib/model/types.js';
import { DesiredTable } from '../../../lib/reconcile/desired-table.js';

function vs(service: string, address: string, port: number, kind: EntryKind): VirtualServer {
  const [namespace = '', name = ''] = service.split('/');
  return {
    key: virtualServerKey('TCP', address, port),
    family: 'IPv4',
    protocol: 'TCP',
    address,
    port,
    scheduler: 'rr',
    schedulerFlags: [],
    persistenceTimeout: 0,
    netmask: 32,
    trafficPolicy: 'Cluster',
    realServers: [],
    owner: { namespace, name, portName: '', servicePort: port, kind },
  };
}

const rs = (address: string) => ({ address, port: 8080, weight: 1 });

const arbService = fc.constantFrom('a/one', 'a/two', 'b/one', 'c/three');
const arbVs = (svc: string) =>
  fc
    .record({
      address: fc.constantFrom('10.96.0.1', '10.96.0.2', '192.168.1.5'),
      port: fc.constantFrom(80, 443),
      kind: fc.constantFrom<EntryKind>('ClusterIP', 'ExternalIP', 'NodePort'),
    })
    .map((r) => vs(svc, r.address, r.port, r.kind));
const arbUpdate = arbService.chain((svc) =>
  fc.record({
    svc: fc.constant(svc),
    list: fc.option(fc.uniqueArray(arbVs(svc), { selector: (v) => v.key, maxLength: 4 }), {
      nil: undefined,
    }),
  }),
);

describe('reconcile/desired-table', () => {
  it('property: after any updates, winners and bound addresses equal collectDesired of the final state', () => {
    let conflicts = 0;
    fc.assert(
      fc.property(fc.array(arbUpdate, { minLength: 1, maxLength: 12 }), (updates) => {
        const table = new DesiredTable();
        const final = new Map<string, VirtualServer[]>();
        for (const u of updates) {
          const change = table.update(u.svc, u.list);
          conflicts += change.conflicts.length;
          if (u.list && u.list.length > 0) final.set(u.svc, u.list);
          else final.delete(u.svc);
        }
        const want = collectDesired(
          [...final].map(([k, list]) => [k, { virtualServers: list, skipped: [] }] as const),
        );
        const got = [...table.keys()].map((k) => table.get(k));
        const byKey = (a: VirtualServer | undefined, b: VirtualServer | undefined) =>
          (a?.key ?? '') < (b?.key ?? '') ? -1 : 1;
        expect(got.sort(byKey)).to.deep.equal([...want.virtualServers].sort(byKey));
        const addresses = new Set(
          want.virtualServers.filter((v) => v.owner.kind !== 'NodePort').map((v) => v.address),
        );
        expect(table.addresses()).to.deep.equal(addresses);
      }),
      { numRuns: 500 },
    );
    // Guard: contested keys must actually occur.
    expect(conflicts).to.be.greaterThan(50);
  });

  it('keeps the virtual server it holds when a Service translates to an equal one, and takes a changed one', () => {
    const t = new DesiredTable();
    const held = { ...vs('a/one', '10.96.0.1', 80, 'ClusterIP'), realServers: [rs('10.1.0.1')] };
    t.update('a/one', [held]);
    const again = structuredClone(held);
    const change = t.update('a/one', [again]);
    expect(t.get(held.key)).to.equal(held);
    // The keys are still reported: the kernel may differ from the table (a retry, drift).
    expect([...change.keys]).to.deep.equal([held.key]);
    const moved = { ...held, realServers: [rs('10.1.0.2')] };
    t.update('a/one', [moved]);
    expect(t.get(held.key)).to.equal(moved);
  });

  it('a contested key goes to the first Service by key; the other is told who holds it', () => {
    const t = new DesiredTable();
    t.update('b/web', [vs('b/web', '10.96.0.1', 80, 'ClusterIP')]);
    const c = t.update('a/web', [vs('a/web', '10.96.0.1', 80, 'ClusterIP')]);
    expect(c.conflicts).to.deep.equal([]);
    expect(t.holder(virtualServerKey('TCP', '10.96.0.1', 80))).to.equal('a/web');
    const again = t.update('b/web', [vs('b/web', '10.96.0.1', 80, 'ClusterIP')]);
    expect(again.conflicts).to.deep.equal([
      { key: virtualServerKey('TCP', '10.96.0.1', 80), holder: 'a/web' },
    ]);
    // When the holder goes, the other Service's virtual server takes its place.
    const gone = t.update('a/web', undefined);
    expect([...gone.keys]).to.deep.equal([virtualServerKey('TCP', '10.96.0.1', 80)]);
    expect(t.get(virtualServerKey('TCP', '10.96.0.1', 80))?.owner.namespace).to.equal('b');
  });

  it('an address stays bound while any winning virtual server uses it', () => {
    const t = new DesiredTable();
    t.update('a/x', [
      vs('a/x', '10.96.0.1', 80, 'ClusterIP'),
      vs('a/x', '10.96.0.1', 443, 'ClusterIP'),
    ]);
    const c = t.update('a/x', [vs('a/x', '10.96.0.1', 443, 'ClusterIP')]);
    expect(t.hasAddress('10.96.0.1')).to.equal(true);
    expect(c.keys.size).to.equal(2);
    t.update('a/x', []);
    expect(t.hasAddress('10.96.0.1')).to.equal(false);
    t.update('a/y', [vs('a/y', '192.168.1.5', 30080, 'NodePort')]);
    expect(t.addresses()).to.deep.equal(new Set());
  });
});
