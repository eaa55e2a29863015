// reconcile/reconciler against an in-memory kernel: what a partial sync decides for a real
// server that leaves depends on the kernel's connection counts now.
import { expect } from 'chai';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { IpvsServiceId } from '../../../bindings/ipvs/codec.js';
import type { Backend, ObservedState, OpResult } from '../../../lib/backends/backend.js';
import { copyDestination, type IpvsEntry } from '../../../lib/backends/ipvs/convert.js';
import { ipvsServiceKey } from '../../../lib/backends/ipvs/key.js';
import { defaultConfig } from '../../../lib/config/schema.js';
import type { VirtualServerKey } from '../../../lib/model/types.js';
import type { Op } from '../../../lib/reconcile/diff.js';
import { Reconciler } from '../../../lib/reconcile/reconciler.js';
import { NetlinkError } from '../../../bindings/netlink/errors.js';
import { modelStore } from '../../../lib/sources/model-store.js';

/** A kernel of virtual servers whose connection counts the test sets. */
class FakeKernel implements Backend {
  readonly mode = 'ipvs' as const;
  countsConnections = true;
  /** How many virtual servers observeServices was asked for. */
  reread = 0;
  readonly entries = new Map<VirtualServerKey, IpvsEntry>();
  readonly addresses = new Set<string>();
  readonly applied: Op[] = [];

  private key(s: IpvsServiceId): VirtualServerKey {
    const k = ipvsServiceKey(s);
    if (!k) throw new Error('no key');
    return k;
  }

  observe(): Promise<ObservedState> {
    return Promise.resolve({
      entries: new Map([...this.entries].map(([k, e]) => [k, structuredClone(e)])),
      addresses: new Set(this.addresses),
      nodeAddresses: [],
    });
  }

  observeServices(ids: readonly IpvsServiceId[]): Promise<Map<VirtualServerKey, IpvsEntry>> {
    this.reread += ids.length;
    const out = new Map<VirtualServerKey, IpvsEntry>();
    for (const id of ids) {
      const e = this.entries.get(this.key(id));
      if (e) out.set(this.key(id), structuredClone(e));
    }
    return Promise.resolve(out);
  }

  apply(ops: readonly Op[]): Promise<OpResult[]> {
    for (const op of ops) {
      this.applied.push(op);
      if (op.op === 'bindAddress') this.addresses.add(op.address);
      else if (op.op === 'unbindAddress') this.addresses.delete(op.address);
      else if (op.op === 'addService')
        this.entries.set(this.key(op.service), { service: op.service, destinations: [] });
      else if (op.op === 'deleteService') this.entries.delete(this.key(op.service));
      else if (op.op === 'updateService') {
        const e = this.entries.get(this.key(op.service));
        if (e) e.service = op.service;
      } else {
        const e = this.entries.get(this.key(op.service));
        if (!e) continue;
        const same = (d: { address: string; port: number }) =>
          d.address === op.destination.address && d.port === op.destination.port;
        const rest = e.destinations.filter((d) => !same(d));
        const old = e.destinations.find(same);
        e.destinations =
          op.op === 'deleteDestination'
            ? rest
            : [
                ...rest,
                // What a kernel keeps is the fields' values: copyDestination writes out those
                // a MasqDestination keeps on its prototype, as a dump would give them.
                copyDestination(
                  op.destination,
                  op.destination.weight,
                  old?.activeConns ?? 0,
                  old?.inactiveConns ?? 0,
                ),
              ];
      }
    }
    return Promise.resolve(ops.map(() => ({ ok: true }) as const));
  }

  cleanup(): Promise<never> {
    return Promise.reject(new Error('not here'));
  }

  close(): void {}
}

const service: V1Service = {
  metadata: { namespace: 'default', name: 'web' },
  spec: {
    type: 'ClusterIP',
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
  },
};

function slice(addresses: string[]): V1EndpointSlice {
  return {
    metadata: {
      namespace: 'default',
      name: 'web-1',
      labels: { 'kubernetes.io/service-name': 'web' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  };
}

describe('reconcile/reconciler (R1.4, G-18)', () => {
  const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

  it('drains a real server added since the last dump that has connections now (partial sync)', async () => {
    const kernel = new FakeKernel();
    const store = modelStore({ name: 'node-a', addresses: [] }, defaultConfig());
    const r = new Reconciler({ store, backend: kernel, log: quiet, drainTimeoutMs: () => 60_000 });
    store.upsertService(service);
    store.upsertSlice(slice(['10.244.0.11']));
    await r.full();
    // Scale up in a partial sync: the new real server is remembered with 0 connections.
    store.upsertSlice(slice(['10.244.0.11', '10.244.0.12']));
    await r.partial();
    // Then it takes a connection in the kernel, and leaves.
    const e = kernel.entries.get('TCP/10.96.0.10:80' as VirtualServerKey);
    const d = e?.destinations.find((x) => x.address === '10.244.0.12');
    expect(d).to.not.equal(undefined);
    if (d) d.activeConns = 1;
    kernel.applied.length = 0;
    store.upsertSlice(slice(['10.244.0.11']));
    await r.partial();
    expect(kernel.applied.map((o) => o.op)).to.deep.equal(['updateDestination']);
    expect(e?.destinations.find((x) => x.address === '10.244.0.12')?.weight).to.equal(0);
    // Once its connections are gone, the drain step deletes it.
    if (d) {
      const now = e?.destinations.find((x) => x.address === '10.244.0.12');
      if (now) now.activeConns = 0;
    }
    kernel.applied.length = 0;
    await r.drain();
    expect(kernel.applied.map((o) => o.op)).to.deep.equal(['deleteDestination']);
  });

  it('deletes a leaving real server at once when the kernel says it has no connections', async () => {
    const kernel = new FakeKernel();
    const store = modelStore({ name: 'node-a', addresses: [] }, defaultConfig());
    const r = new Reconciler({ store, backend: kernel, log: quiet, drainTimeoutMs: () => 60_000 });
    store.upsertService(service);
    store.upsertSlice(slice(['10.244.0.11', '10.244.0.12']));
    await r.full();
    kernel.applied.length = 0;
    store.upsertSlice(slice(['10.244.0.11']));
    await r.partial();
    expect(kernel.applied.map((o) => o.op)).to.deep.equal(['deleteDestination']);
  });

  it('reports the trigger times of the slice changes it programmed, once, and when it wrote them', async () => {
    const kernel = new FakeKernel();
    const store = modelStore({ name: 'node-a', addresses: [] }, defaultConfig());
    let clock = Date.parse('2026-12-01T10:00:05.000Z');
    const r = new Reconciler({
      store,
      backend: kernel,
      log: quiet,
      drainTimeoutMs: () => 60_000,
      now: () => clock,
    });
    const at = (s: V1EndpointSlice, t: string): V1EndpointSlice => ({
      ...s,
      metadata: {
        ...s.metadata,
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': t },
      },
    });
    store.upsertService(service);
    store.upsertSlice(at(slice(['10.244.0.11']), '2026-12-01T10:00:01Z'));
    const first = await r.full();
    expect(first.triggerTimes).to.deep.equal([Date.parse('2026-12-01T10:00:01Z')]);
    expect(first.finishedAt).to.equal(clock);
    // The same slice again (a resend) carries nothing new.
    store.upsertSlice(at(slice(['10.244.0.11']), '2026-12-01T10:00:01Z'));
    clock += 1000;
    expect((await r.partial()).triggerTimes).to.deep.equal([]);
    store.upsertSlice(at(slice(['10.244.0.12']), '2026-12-01T10:00:06.5Z'));
    clock += 2000;
    const next = await r.partial();
    expect(next.triggerTimes).to.deep.equal([Date.parse('2026-12-01T10:00:06.5Z')]);
    expect(next.finishedAt - (next.triggerTimes[0] as number)).to.equal(1500);
    expect((await r.full()).triggerTimes).to.deep.equal([]);
  });

  it('keeps the health checks of Local LoadBalancer Services by key, and drops them with the Service (R10.6)', async () => {
    const kernel = new FakeKernel();
    const store = modelStore({ name: 'node-a', addresses: [] }, defaultConfig());
    const r = new Reconciler({ store, backend: kernel, log: quiet, drainTimeoutMs: () => 60_000 });
    const lb: V1Service = {
      metadata: { namespace: 'default', name: 'web' },
      spec: {
        ...service.spec,
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 32122,
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
      },
    };
    const local = (addresses: string[], node: string): V1EndpointSlice => {
      const s = slice(addresses);
      return { ...s, endpoints: (s.endpoints ?? []).map((e) => ({ ...e, nodeName: node })) };
    };
    store.upsertService(lb);
    store.upsertSlice(local(['10.244.0.11', '10.244.0.12'], 'node-a'));
    await r.full();
    expect([...r.healthChecks]).to.deep.equal([
      ['default/web', { nodePort: 32122, localEndpoints: 2 }],
    ]);
    store.upsertSlice(local(['10.244.0.11'], 'node-b'));
    await r.partial();
    expect(r.healthChecks.get('default/web')).to.deep.equal({ nodePort: 32122, localEndpoints: 0 });
    store.removeService('default', 'web');
    await r.partial();
    expect(r.healthChecks.size).to.equal(0);
  });

  it('counts failed operations by errno, and reports what translate skipped only when it changes', async () => {
    const kernel = new FakeKernel();
    const refused = new NetlinkError(22, 1);
    kernel.apply = (ops) =>
      Promise.resolve(
        ops.map((o) =>
          o.op === 'addDestination'
            ? { ok: false as const, error: refused }
            : { ok: true as const },
        ),
      );
    const store = modelStore({ name: 'node-a', addresses: [] }, defaultConfig());
    const r = new Reconciler({ store, backend: kernel, log: quiet, drainTimeoutMs: () => 60_000 });
    store.upsertService({
      ...service,
      spec: {
        ...service.spec,
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
          { name: 'bad', protocol: 'ICMP' as 'TCP', port: 81 },
        ],
      },
    });
    store.upsertSlice(slice(['10.244.0.11']));
    const first = await r.full();
    expect(first.errors).to.deep.equal({ EINVAL: 1 });
    expect(first.skipped.map((s) => s.field)).to.deep.equal(['spec.ports[1].protocol']);
    expect((await r.full()).skipped).to.deep.equal([]);
  });

  it('without connection counts (iptables) a leaving real server goes at once, with no re-read', async () => {
    const kernel = new FakeKernel();
    kernel.countsConnections = false;
    const store = modelStore({ name: 'node-a', addresses: [] }, defaultConfig());
    const r = new Reconciler({ store, backend: kernel, log: quiet, drainTimeoutMs: () => 60_000 });
    store.upsertService(service);
    store.upsertSlice(slice(['10.244.0.11', '10.244.0.12']));
    await r.full();
    kernel.applied.length = 0;
    store.upsertSlice(slice(['10.244.0.11']));
    await r.partial();
    expect(kernel.applied.map((o) => o.op)).to.deep.equal(['deleteDestination']);
    expect(kernel.reread).to.equal(0);
  });
});
