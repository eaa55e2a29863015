import { expect } from 'chai';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import {
  ServiceStore,
  serviceVirtualIPs,
  TRIGGER_TIME_ANNOTATION,
} from '../../../lib/sources/store.js';

interface Out {
  svc: string;
  slices: string[];
  node: string;
  config: number;
  vips: number;
}

function svc(ns: string, name: string, rv = '1', ip = '10.0.0.1'): V1Service {
  return {
    metadata: { namespace: ns, name, resourceVersion: rv },
    spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ port: 80 }] },
  };
}

function slice(ns: string, name: string, owner: string | undefined, rv = '1'): V1EndpointSlice {
  return {
    metadata: {
      namespace: ns,
      name,
      resourceVersion: rv,
      ...(owner !== undefined ? { labels: { 'kubernetes.io/service-name': owner } } : {}),
    },
    addressType: 'IPv4',
    endpoints: [],
  };
}

function makeStore(nodeFrom?: (n: V1Node | undefined, cur: string) => string) {
  return new ServiceStore<Out, string, string, number>({
    translate: (s, slices, node, config, ctx) => ({
      virtualServers: [
        {
          svc: `${s.metadata?.namespace}/${s.metadata?.name}`,
          slices: slices.map((x) => x.metadata?.name ?? ''),
          node,
          config,
          vips: ctx.virtualIPs.size,
        },
      ],
      skipped: [],
    }),
    node: 'node-a',
    config: 1,
    ...(nodeFrom ? { nodeFrom } : {}),
  });
}

describe('sources/store', () => {
  it('groups slices by kubernetes.io/service-name and marks only the affected service dirty (R7.3)', () => {
    const st = makeStore();
    st.upsertService(svc('ns', 'a'));
    st.upsertService(svc('ns', 'b'));
    st.upsertService(svc('other', 'a'));
    expect([...st.takeDirty()].sort()).to.deep.equal(['ns/a', 'ns/b', 'other/a']);
    st.upsertSlice(slice('ns', 'a-1', 'a'));
    st.upsertSlice(slice('ns', 'a-2', 'a'));
    st.upsertSlice(slice('other', 'x', 'a'));
    expect([...st.takeDirty()].sort()).to.deep.equal(['ns/a', 'other/a']);
    expect(st.slicesOf('ns/a').map((s) => s.metadata?.name)).to.deep.equal(['a-1', 'a-2']);
    expect(st.slicesOf('other/a').map((s) => s.metadata?.name)).to.deep.equal(['x']);
    expect(st.takeDirty().size).to.equal(0);
  });

  it('moves a slice whose label changes and marks both services', () => {
    const st = makeStore();
    st.upsertSlice(slice('ns', 's', 'a'));
    st.takeDirty();
    st.upsertSlice(slice('ns', 's', 'b', '2'));
    expect([...st.takeDirty()].sort()).to.deep.equal(['ns/a', 'ns/b']);
    expect(st.slicesOf('ns/a')).to.deep.equal([]);
    expect(st.slicesOf('ns/b')).to.have.length(1);
    st.upsertSlice(slice('ns', 's', undefined, '3'));
    expect([...st.takeDirty()]).to.deep.equal(['ns/b']);
    expect(st.slicesOf('ns/b')).to.deep.equal([]);
  });

  it('ignores a repeated object at the same resourceVersion (relist of unchanged objects)', () => {
    const st = makeStore();
    st.upsertService(svc('ns', 'a', '5'));
    st.upsertSlice(slice('ns', 'a-1', 'a', '6'));
    st.takeDirty();
    st.upsertService(svc('ns', 'a', '5'));
    st.upsertSlice(slice('ns', 'a-1', 'a', '6'));
    expect(st.takeDirty().size).to.equal(0);
  });

  it('reports a deleted service as not present, and its slices stay grouped for a re-create (R1.2)', () => {
    const st = makeStore();
    st.upsertService(svc('ns', 'a'));
    st.upsertSlice(slice('ns', 'a-1', 'a'));
    st.takeDirty();
    st.removeService('ns', 'a');
    const d = st.desired(st.takeDirty());
    expect(d.get('ns/a')).to.deep.equal({
      present: false,
      virtualServers: [],
      skipped: [],
      warnings: [],
    });
    st.upsertService(svc('ns', 'a', '9'));
    expect(st.desired(st.takeDirty()).get('ns/a')?.virtualServers[0]?.slices).to.deep.equal([
      'a-1',
    ]);
    st.removeSlice('ns', 'a-1');
    expect([...st.takeDirty()]).to.deep.equal(['ns/a']);
    st.removeSlice('ns', 'a-1');
    st.removeService('ns', 'missing');
    expect(st.takeDirty().size).to.equal(0);
  });

  it('translates only the dirty services: work per event is O(changed services) (R2.4)', () => {
    const st = makeStore();
    for (let i = 0; i < 500; i++)
      st.upsertService(svc('ns', `s${i}`, '1', `10.0.${i >> 8}.${i & 255}`));
    st.desired(st.takeDirty());
    const before = st.translations;
    st.upsertSlice(slice('ns', 's7-x', 's7'));
    st.upsertService(svc('ns', 's9', '2', '10.0.0.9'));
    st.desired(st.takeDirty());
    expect(st.translations - before).to.equal(2);
  });

  it('marks every service on a config change, and on a node change only when the node value changes', () => {
    let calls = 0;
    const st = makeStore((n) => {
      calls++;
      return (n?.status?.addresses ?? []).map((a) => a.address).join(',');
    });
    st.upsertService(svc('ns', 'a'));
    st.upsertService(svc('ns', 'b'));
    st.takeDirty();
    const node = (ip: string, beat: string): V1Node => ({
      metadata: { name: 'node-a' },
      status: {
        addresses: [{ type: 'InternalIP', address: ip }],
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(beat) }],
      },
    });
    st.setNode(node('192.168.10.11', '2026-01-01T00:00:00Z'));
    expect(st.takeDirty().size).to.equal(2);
    st.setNode(node('192.168.10.11', '2026-01-01T00:01:00Z'));
    expect(st.takeDirty().size).to.equal(0);
    expect(calls).to.equal(2);
    st.setConfig(2);
    expect(st.takeDirty().size).to.equal(2);
    expect(st.desired(['ns/a']).get('ns/a')?.virtualServers[0]).to.include({
      node: '192.168.10.11',
      config: 2,
    });
  });

  it('notifies onDirty when the dirty set goes from empty to non-empty', () => {
    const st = makeStore();
    let n = 0;
    const off = st.onDirty(() => n++);
    st.upsertService(svc('ns', 'a'));
    st.upsertService(svc('ns', 'b'));
    expect(n).to.equal(1);
    st.takeDirty();
    st.upsertService(svc('ns', 'a', '2'));
    expect(n).to.equal(2);
    off();
    st.takeDirty();
    st.upsertService(svc('ns', 'a', '3'));
    expect(n).to.equal(2);
  });

  it('counts as VIPs what translate programs: no ipMode Proxy ingress, no ingress of a non-LoadBalancer (R7.5, R15.2)', () => {
    const st = makeStore();
    const proxied: V1Service = {
      metadata: { namespace: 'ns', name: 'lb', resourceVersion: '1' },
      spec: { type: 'LoadBalancer', clusterIP: '10.0.0.5', ports: [{ port: 80 }] },
      status: {
        loadBalancer: {
          ingress: [{ ip: '198.51.100.7', ipMode: 'Proxy' }, { ip: '198.51.100.8' }],
        },
      },
    };
    // Stale status on a ClusterIP Service: not an entry point, so not a VIP.
    const stale: V1Service = {
      metadata: { namespace: 'ns', name: 'was-lb', resourceVersion: '1' },
      spec: { type: 'ClusterIP', clusterIP: '10.0.0.6', ports: [{ port: 80 }] },
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.9' }] } },
    };
    expect(serviceVirtualIPs(proxied).sort()).to.deep.equal(['10.0.0.5', '198.51.100.8']);
    expect(serviceVirtualIPs(stale)).to.deep.equal(['10.0.0.6']);
    st.upsertService(proxied);
    st.upsertService(stale);
    expect(st.desired(['ns/lb']).get('ns/lb')?.virtualServers[0]?.vips).to.equal(3);
  });

  it('keeps the set of all Service VIPs by reference count (R7.5)', () => {
    const st = makeStore();
    const lb: V1Service = {
      metadata: { namespace: 'ns', name: 'lb', resourceVersion: '1' },
      spec: {
        type: 'LoadBalancer',
        clusterIP: '10.0.0.5',
        clusterIPs: ['10.0.0.5', 'fd00::0005'],
        externalIPs: ['192.0.2.1'],
      },
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } },
    };
    expect(serviceVirtualIPs(lb).sort()).to.deep.equal([
      '10.0.0.5',
      '192.0.2.1',
      '198.51.100.7',
      'fd00::5',
    ]);
    st.upsertService(lb);
    st.upsertService(svc('ns', 'same-ip', '1', '10.0.0.5'));
    const vipsOf = () => st.desired(['ns/lb']).get('ns/lb')?.virtualServers[0]?.vips;
    expect(vipsOf()).to.equal(4);
    st.removeService('ns', 'same-ip');
    expect(vipsOf()).to.equal(4);
    st.upsertService({
      ...lb,
      metadata: { ...lb.metadata, resourceVersion: '2' },
      spec: { ...lb.spec, externalIPs: [] },
    });
    expect(vipsOf()).to.equal(3);
  });

  it('re-marks services with an endpoint at an address that becomes or stops being a VIP (R7.5)', () => {
    const st = makeStore();
    const withEndpoint = (rv: string, ip: string): V1EndpointSlice => ({
      ...slice('ns', 'a-1', 'a', rv),
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    });
    st.upsertService(svc('ns', 'a', '1', '10.0.0.1'));
    st.upsertSlice(withEndpoint('1', '10.0.0.9'));
    st.takeDirty();
    // Another Service takes 10.0.0.9 as its ClusterIP: a's endpoint is now a VIP.
    st.upsertService(svc('ns', 'b', '1', '10.0.0.9'));
    expect([...st.takeDirty()].sort()).to.deep.equal(['ns/a', 'ns/b']);
    // A second holder of the same VIP changes nothing for a.
    st.upsertService(svc('ns', 'c', '1', '10.0.0.9'));
    expect([...st.takeDirty()]).to.deep.equal(['ns/c']);
    st.removeService('ns', 'b');
    expect([...st.takeDirty()]).to.deep.equal(['ns/b']);
    st.removeService('ns', 'c');
    expect([...st.takeDirty()].sort()).to.deep.equal(['ns/a', 'ns/c']);
    // Once a's endpoint moves away, VIP changes at the old address leave a alone.
    st.upsertSlice(withEndpoint('2', '10.0.0.10'));
    st.takeDirty();
    st.upsertService(svc('ns', 'b', '2', '10.0.0.9'));
    expect([...st.takeDirty()]).to.deep.equal(['ns/b']);
    st.upsertService(svc('ns', 'b', '3', '10.0.0.10'));
    expect([...st.takeDirty()].sort()).to.deep.equal(['ns/a', 'ns/b']);
    st.removeSlice('ns', 'a-1');
    st.takeDirty();
    st.removeService('ns', 'b');
    expect([...st.takeDirty()]).to.deep.equal(['ns/b']);
  });

  it('matches an independent model under any sequence of upserts and removals', () => {
    type Op =
      | { t: 'svc'; i: number; rv: number }
      | { t: 'delsvc'; i: number }
      | { t: 'slice'; j: number; owner: number | null; rv: number }
      | { t: 'delslice'; j: number };
    const op = fc.oneof(
      fc.record({ t: fc.constant('svc' as const), i: fc.nat(5), rv: fc.nat(3) }),
      fc.record({ t: fc.constant('delsvc' as const), i: fc.nat(5) }),
      fc.record({
        t: fc.constant('slice' as const),
        j: fc.nat(8),
        owner: fc.option(fc.nat(5)),
        rv: fc.nat(3),
      }),
      fc.record({ t: fc.constant('delslice' as const), j: fc.nat(8) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops: Op[]) => {
        const st = makeStore();
        // Every upsert is a new version (a real API server never repeats one); a counter,
        // not Math.random, so a failing run replays exactly.
        let version = 0;
        const view = new Map<string, string[]>();
        const services = new Set<string>();
        const owners = new Map<string, string | null>();
        const drain = () => {
          for (const [k, d] of st.desired(st.takeDirty())) {
            if (d.present) view.set(k, d.virtualServers[0]?.slices ?? []);
            else view.delete(k);
          }
        };
        for (const o of ops) {
          if (o.t === 'svc') {
            services.add(`ns/s${o.i}`);
            st.upsertService(svc('ns', `s${o.i}`, `${o.rv}-${version++}`));
          } else if (o.t === 'delsvc') {
            services.delete(`ns/s${o.i}`);
            st.removeService('ns', `s${o.i}`);
          } else if (o.t === 'slice') {
            owners.set(`x${o.j}`, o.owner === null ? null : `s${o.owner}`);
            st.upsertSlice(
              slice(
                'ns',
                `x${o.j}`,
                o.owner === null ? undefined : `s${o.owner}`,
                `${o.rv}-${version++}`,
              ),
            );
          } else {
            owners.delete(`x${o.j}`);
            st.removeSlice('ns', `x${o.j}`);
          }
          if (o.t === 'svc' && o.i % 2 === 0) drain();
        }
        drain();
        const want = new Map<string, string[]>();
        for (const k of services) {
          const name = k.slice(3);
          want.set(
            k,
            [...owners.entries()]
              .filter(([, ow]) => ow === name)
              .map(([s]) => s)
              .sort(),
          );
        }
        expect(new Map([...view.entries()].sort())).to.deep.equal(
          new Map([...want.entries()].sort()),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('hands out each new EndpointSlice trigger time once, to the owning Service (network programming latency)', () => {
    const st = makeStore();
    const at = (s: V1EndpointSlice, t: string): V1EndpointSlice => ({
      ...s,
      metadata: { ...s.metadata, annotations: { [TRIGGER_TIME_ANNOTATION]: t } },
    });
    st.upsertService(svc('ns', 'a'));
    st.upsertSlice(at(slice('ns', 'a-1', 'a', '1'), '2026-12-01T10:00:00Z'));
    // A resend with the same trigger time is no new change; a bad one is ignored.
    st.upsertSlice(at(slice('ns', 'a-1', 'a', '2'), '2026-12-01T10:00:00Z'));
    st.upsertSlice(at(slice('ns', 'a-2', 'a', '1'), 'not a time'));
    st.upsertSlice(at(slice('ns', 'a-1', 'a', '3'), '2026-12-01T10:00:02.5Z'));
    // No owner label: nobody to program.
    st.upsertSlice(at(slice('ns', 'x-1', undefined, '1'), '2026-12-01T10:00:03Z'));
    expect(st.takeTriggerTimes(['ns/b'])).to.deep.equal([]);
    expect(st.takeTriggerTimes(['ns/a'])).to.deep.equal([
      Date.parse('2026-12-01T10:00:00Z'),
      Date.parse('2026-12-01T10:00:02.5Z'),
    ]);
    expect(st.takeTriggerTimes(['ns/a'])).to.deep.equal([]);
  });

  it("carries translate's health check into the desired entry", () => {
    const st = new ServiceStore<string, string, string, number>({
      translate: () => ({
        virtualServers: [],
        skipped: [],
        healthCheck: { nodePort: 32122, localEndpoints: 1 },
      }),
      node: 'n',
      config: 0,
    });
    st.upsertService(svc('ns', 'a'));
    expect(st.desired(['ns/a']).get('ns/a')?.healthCheck).to.deep.equal({
      nodePort: 32122,
      localEndpoints: 1,
    });
  });
});
