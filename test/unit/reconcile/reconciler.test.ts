// reconcile/reconciler against an in-memory kernel: what a partial sync decides for a real
// server that leaves depends on the kernel's connection counts now.
import { expect } from 'chai';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { IpvsServiceId } from '../../../bindings/ipvs/codec.js';
import type { Backend, ObservedState, OpResult } from '../../../lib/backends/backend.js';
import type { IpvsEntry } from '../../../lib/backends/ipvs/convert.js';
import { ipvsServiceKey } from '../../../lib/backends/ipvs/key.js';
import { defaultConfig } from '../../../lib/config/schema.js';
import type { VirtualServerKey } from '../../../lib/model/types.js';
import type { Op } from '../../../lib/reconcile/diff.js';
import { Reconciler } from '../../../lib/reconcile/reconciler.js';
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
                {
                  ...op.destination,
                  activeConns: old?.activeConns ?? 0,
                  inactiveConns: old?.inactiveConns ?? 0,
                },
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
