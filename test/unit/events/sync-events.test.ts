// events/sync-events with the reconciler: what translate leaves out, a rejected scheduler
// annotation and a kernel refusal become Events on the Service (with its uid, so kubectl
// describe finds them), once per change; an address refusal is about the Node.
import { expect } from 'chai';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { NetlinkError } from '../../../bindings/netlink/errors.js';
import type { Backend, ObservedState, OpResult } from '../../../lib/backends/backend.js';
import type { IpvsEntry } from '../../../lib/backends/ipvs/convert.js';
import { defaultConfig } from '../../../lib/config/schema.js';
import { SyncEvents } from '../../../lib/events/sync-events.js';
import type { EventSpec } from '../../../lib/events/types.js';
import type { VirtualServerKey } from '../../../lib/model/types.js';
import type { Op } from '../../../lib/reconcile/diff.js';
import { Reconciler } from '../../../lib/reconcile/reconciler.js';
import { modelStore } from '../../../lib/sources/model-store.js';

const ENOENT = 2;

/** An empty kernel that refuses the ops `refuse` picks, applying nothing. */
class RefusingKernel implements Backend {
  readonly mode = 'ipvs' as const;
  readonly countsConnections = true;
  constructor(private readonly refuse: (op: Op) => boolean) {}
  observe(): Promise<ObservedState> {
    return Promise.resolve({ entries: new Map(), addresses: new Set(), nodeAddresses: [] });
  }
  observeServices(): Promise<Map<VirtualServerKey, IpvsEntry>> {
    return Promise.resolve(new Map());
  }
  apply(ops: readonly Op[]): Promise<OpResult[]> {
    return Promise.resolve(
      ops.map((op): OpResult =>
        this.refuse(op) ? { ok: false, error: new NetlinkError(ENOENT, 1) } : { ok: true },
      ),
    );
  }
  cleanup(): Promise<never> {
    return Promise.reject(new Error('not here'));
  }
  close(): void {}
}

function service(annotations?: Record<string, string>, protocol = 'TCP'): V1Service {
  return {
    metadata: {
      namespace: 'default',
      name: 'web',
      uid: 'svc-uid',
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
        { name: 'odd', protocol, port: 81, targetPort: 8081 },
      ],
    },
  };
}

const slice: V1EndpointSlice = {
  metadata: {
    namespace: 'default',
    name: 'web-1',
    uid: 'slice-uid',
    labels: { 'kubernetes.io/service-name': 'web' },
  },
  addressType: 'IPv4',
  ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
};

function setup(refuse: (op: Op) => boolean = () => false) {
  const recorded: EventSpec[] = [];
  const store = modelStore({ name: 'node-a', addresses: [] }, defaultConfig());
  const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  const r = new Reconciler({
    store,
    backend: new RefusingKernel(refuse),
    log: quiet,
    drainTimeoutMs: () => 60_000,
    notes: new SyncEvents({ record: (s) => recorded.push(s) }, store, 'node-a'),
  });
  return { recorded, store, r };
}

const svcRef = {
  apiVersion: 'v1',
  kind: 'Service',
  namespace: 'default',
  name: 'web',
  uid: 'svc-uid',
};

describe('events/sync-events (the reconciler notes as Events)', function () {
  it('an invalid scheduler annotation, a skipped port and a skipped endpoint: Events on the Service, once per change', async function () {
    const { recorded, store, r } = setup();
    store.upsertService(service({ 'kube-ipvs.io/scheduler': 'bogus' }, 'ICMP'));
    store.upsertSlice(slice);
    await r.full();
    expect(recorded.map((e) => e.reason).sort()).to.deep.equal([
      'EndpointSliceSkipped',
      'InvalidSchedulerAnnotation',
      'ServiceSkipped',
    ]);
    for (const e of recorded) {
      expect(e.regarding).to.deep.equal(svcRef);
      expect(e.type).to.equal('Warning');
    }
    const ep = recorded.find((e) => e.reason === 'EndpointSliceSkipped');
    expect(ep?.related).to.deep.equal({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      namespace: 'default',
      name: 'web-1',
      uid: 'slice-uid',
    });
    expect(ep?.note).to.match(
      /^left out: EndpointSlice default\/web-1 endpoints\[0\]\.addresses\[0\]: /,
    );
    expect(recorded.find((e) => e.reason === 'ServiceSkipped')?.note).to.contain(
      'Service default/web spec.ports[1].protocol',
    );
    expect(recorded.find((e) => e.reason === 'InvalidSchedulerAnnotation')?.note).to.match(
      /^metadata\.annotations\["kube-ipvs\.io\/scheduler"\]: "bogus" is not an IPVS scheduler/,
    );
    // A resync with nothing changed reports nothing again.
    await r.full();
    expect(recorded).to.have.length(3);
  });

  it('a kernel refusal is an Event on the Service that holds the virtual server; an address refusal on the Node', async function () {
    const { recorded, store, r } = setup((op) => op.op === 'addService' || op.op === 'bindAddress');
    store.upsertService({
      ...service(),
      spec: {
        ...service().spec,
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
      },
    });
    await r.full();
    expect(recorded.map((e) => [e.reason, e.regarding.kind, e.note])).to.deep.equal([
      [
        'KernelRejected',
        'Node',
        'the kernel refused bindAddress 10.96.0.10: ENOENT; retrying with backoff',
      ],
      [
        'KernelRejected',
        'Service',
        'the kernel refused addService TCP/10.96.0.10:80: ENOENT; retrying with backoff',
      ],
    ]);
    expect(recorded[0]?.regarding).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Node',
      name: 'node-a',
      uid: 'node-a',
    });
    expect(recorded[1]?.regarding).to.deep.equal(svcRef);
  });
});
