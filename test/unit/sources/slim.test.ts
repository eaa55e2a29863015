// What the informers keep of Services and EndpointSlices: the bulk a real API server sends
// goes, and translate gives the same virtual servers (and the same reports) for the slim
// objects as for the whole ones.
import { expect } from 'chai';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { translate } from '../../../lib/model/index.js';
import { slimService, slimSlice } from '../../../lib/sources/slim.js';
import { TRIGGER_TIME_ANNOTATION } from '../../../lib/sources/store.js';
import { A1, B1, NODE_A, config, slice, svc } from '../model/fixtures.js';

const managedFields = [
  {
    manager: 'kubectl',
    operation: 'Apply',
    apiVersion: 'v1',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': {} },
  },
];

function fullService(): V1Service {
  const s = svc({
    annotations: {
      'kube-ipvs.io/scheduler': 'sh',
      'kube-ipvs.io/scheduler-flags': 'sh-port',
      'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy of the object"}',
    },
    spec: {
      type: 'LoadBalancer',
      clusterIP: '10.0.170.92',
      clusterIPs: ['10.0.170.92'],
      externalIPs: ['192.168.10.100'],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }],
    },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] }, conditions: [] },
  });
  const meta = s.metadata ?? {};
  s.metadata = {
    ...meta,
    uid: 'c0ffee',
    resourceVersion: '42',
    generation: 3,
    creationTimestamp: new Date(0),
    managedFields,
    ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'y' }],
  };
  return s;
}

function fullSlice(): V1EndpointSlice {
  const s = slice(
    [A1, { ...B1, ready: false, serving: true, terminating: true }],
    [{ name: 'http', port: 8080 }],
  );
  s.metadata = {
    ...s.metadata,
    resourceVersion: '7',
    uid: 'u',
    managedFields,
    annotations: {
      [TRIGGER_TIME_ANNOTATION]: '2026-12-01T10:00:00Z',
      'endpoints.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    },
  };
  s.endpoints = (s.endpoints ?? []).map((e) => ({
    ...e,
    zone: 'z1',
    hints: { forZones: [{ name: 'z1' }] },
    targetRef: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'p' },
    deprecatedTopology: { 'topology.kubernetes.io/zone': 'z1' },
  }));
  return s;
}

describe('sources/slim', function () {
  it('keeps what the store and translate read, and drops the rest', function () {
    const s = slimService(fullService());
    expect(s.metadata).to.deep.equal({
      namespace: 'default',
      name: 'svc-web',
      uid: 'c0ffee',
      resourceVersion: '42',
      annotations: { 'kube-ipvs.io/scheduler': 'sh', 'kube-ipvs.io/scheduler-flags': 'sh-port' },
    });
    expect(s.status).to.deep.equal({ loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } });
    expect(s.spec).to.deep.equal(fullService().spec);
    const sl = slimSlice(fullSlice());
    expect(sl.metadata).to.deep.equal({
      namespace: 'default',
      name: 'svc-web-abc',
      uid: 'u',
      resourceVersion: '7',
      labels: { 'kubernetes.io/service-name': 'svc-web' },
      annotations: { [TRIGGER_TIME_ANNOTATION]: '2026-12-01T10:00:00Z' },
    });
    expect(sl.endpoints).to.deep.equal([
      { addresses: ['10.244.1.5'], conditions: {}, nodeName: 'node-a' },
      {
        addresses: ['10.244.2.5'],
        conditions: { ready: false, serving: true, terminating: true },
        nodeName: 'node-b',
      },
    ]);
  });

  it('translate gives the same result for slim objects as for whole ones', function () {
    for (const node of [NODE_A, { ...NODE_A, name: 'node-b' }]) {
      const whole = translate(fullService(), [fullSlice()], node, config());
      const slim = translate(slimService(fullService()), [slimSlice(fullSlice())], node, config());
      expect(slim).to.deep.equal(whole);
      expect(whole.virtualServers).to.not.have.length(0);
    }
  });

  it('endpoints with the same conditions share one object; a non-boolean field reads as its default', function () {
    const s = fullSlice();
    s.endpoints = [
      { addresses: ['10.244.1.5'], conditions: { ready: true } },
      { addresses: ['10.244.1.6'], conditions: { ready: true } },
      { addresses: ['10.244.1.7'], conditions: { ready: false, terminating: true } },
      { addresses: ['10.244.1.8'], conditions: { ready: 'yes' } as never },
    ];
    const [a, b, c, d] = slimSlice(s).endpoints;
    expect(a?.conditions).to.equal(b?.conditions);
    expect(a?.conditions).to.deep.equal({ ready: true });
    expect(c?.conditions).to.deep.equal({ ready: false, terminating: true });
    expect(d?.conditions).to.deep.equal({});
    const node = NODE_A;
    expect(translate(fullService(), [slimSlice(s)], node, config())).to.deep.equal(
      translate(fullService(), [s], node, config()),
    );
  });

  it('passes malformed endpoints on for translate to report', function () {
    const s = fullSlice();
    (s as { endpoints: unknown }).endpoints = [null, 'x'];
    expect(slimSlice(s).endpoints).to.deep.equal([null, 'x']);
    (s as { endpoints: unknown }).endpoints = 'nonsense';
    expect(slimSlice(s).endpoints).to.equal('nonsense');
  });
});
