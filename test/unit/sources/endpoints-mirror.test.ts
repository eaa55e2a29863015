import { expect } from 'chai';
import fc from 'fast-check';
import type { V1Endpoints, V1Service } from '@kubernetes/client-node';
import {
  MAX_ENDPOINTS_PER_SUBSET,
  mirrorEndpoints,
  mirrorRefusal,
} from '../../../lib/sources/endpoints-mirror.js';

const selectorless: V1Service = {
  metadata: { namespace: 'default', name: 'my-service' },
  spec: { ports: [{ protocol: 'TCP', port: 80, targetPort: 9376 }] },
};

describe('sources/endpoints-mirror (Endpoints → EndpointSlices as the mirroring controller)', () => {
  it('R7.1: the seed Endpoints becomes one IPv4 slice with a ready endpoint and TCP port', () => {
    const eps: V1Endpoints = {
      metadata: { namespace: 'default', name: 'my-service' },
      subsets: [{ addresses: [{ ip: '192.0.2.42' }], ports: [{ port: 9376 }] }],
    };
    expect(mirrorRefusal(eps, selectorless)).to.equal(undefined);
    const { slices, notes } = mirrorEndpoints(eps);
    expect(notes).to.deep.equal([]);
    expect(slices).to.have.length(1);
    const s = slices[0];
    if (!s) throw new Error('no slice');
    expect(s.addressType).to.equal('IPv4');
    expect(s.metadata?.namespace).to.equal('default');
    expect(s.metadata?.labels).to.deep.equal({
      'kubernetes.io/service-name': 'my-service',
      'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io',
    });
    expect(s.ports).to.deep.equal([{ name: '', port: 9376, protocol: 'TCP' }]);
    expect(s.endpoints).to.deep.equal([{ addresses: ['192.0.2.42'], conditions: { ready: true } }]);
  });

  it('maps notReadyAddresses to ready: false and keeps nodeName, hostname and targetRef (R8.1)', () => {
    const eps: V1Endpoints = {
      metadata: { namespace: 'ns', name: 'svc' },
      subsets: [
        {
          addresses: [
            {
              ip: '10.244.1.5',
              nodeName: 'node-a',
              hostname: 'a1',
              targetRef: { kind: 'Pod', name: 'a1' },
            },
          ],
          notReadyAddresses: [{ ip: '10.244.2.5', nodeName: 'node-b' }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }],
        },
      ],
    };
    const [s] = mirrorEndpoints(eps).slices;
    expect(s?.ports).to.deep.equal([
      { name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' },
    ]);
    expect(s?.endpoints).to.deep.equal([
      {
        addresses: ['10.244.1.5'],
        conditions: { ready: true },
        targetRef: { kind: 'Pod', name: 'a1' },
        nodeName: 'node-a',
        hostname: 'a1',
      },
      { addresses: ['10.244.2.5'], conditions: { ready: false }, nodeName: 'node-b' },
    ]);
  });

  it('splits by address family and by port set; subsets with equal ports share a slice (R16.1)', () => {
    const eps: V1Endpoints = {
      metadata: { namespace: 'ns', name: 'svc' },
      subsets: [
        { addresses: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }], ports: [{ name: 'a', port: 1 }] },
        { addresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'a', port: 1 }] },
        { addresses: [{ ip: '10.0.0.3' }], ports: [{ name: 'b', port: 2, protocol: 'UDP' }] },
      ],
    };
    const { slices } = mirrorEndpoints(eps);
    const summary = slices
      .map(
        (s) =>
          `${s.addressType} ${s.ports?.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(',')} ${s.endpoints.map((e) => e.addresses[0]).join(',')}`,
      )
      .sort();
    expect(summary).to.deep.equal([
      'IPv4 a:1/TCP 10.0.0.1,10.0.0.2',
      'IPv4 b:2/UDP 10.0.0.3',
      'IPv6 a:1/TCP fd00::1',
    ]);
    expect(new Set(slices.map((s) => s.metadata?.name)).size).to.equal(3);
    expect(mirrorEndpoints(eps).slices.map((s) => s.metadata?.name)).to.deep.equal(
      slices.map((s) => s.metadata?.name),
    );
  });

  it('skips invalid IPs with a note and writes no slice for a set left empty', () => {
    const eps: V1Endpoints = {
      metadata: { namespace: 'ns', name: 'svc' },
      subsets: [{ addresses: [{ ip: 'not-an-ip' }], ports: [{ port: 80 }] }],
    };
    const r = mirrorEndpoints(eps);
    expect(r.slices).to.deep.equal([]);
    expect(r.notes).to.have.length(1);
    expect(r.notes[0]).to.contain('not-an-ip');
  });

  it('R7.4: mirrors at most 1000 addresses of a subset', () => {
    const addresses = Array.from({ length: 1500 }, (_, i) => ({ ip: `10.1.${i >> 8}.${i & 255}` }));
    const r = mirrorEndpoints({
      metadata: { namespace: 'ns', name: 'big' },
      subsets: [{ addresses, ports: [{ port: 80 }] }],
    });
    expect(r.slices).to.have.length(1);
    expect(r.slices[0]?.endpoints).to.have.length(MAX_ENDPOINTS_PER_SUBSET);
    expect(r.notes.join()).to.contain('500 not mirrored');
  });

  it('copies labels and annotations except the trigger time and last-applied configuration', () => {
    const r = mirrorEndpoints({
      metadata: {
        namespace: 'ns',
        name: 'svc',
        labels: { team: 'x', 'kubernetes.io/service-name': 'wrong' },
        annotations: {
          keep: 'me',
          'endpoints.kubernetes.io/last-change-trigger-time': 't',
          'kubectl.kubernetes.io/last-applied-configuration': '{}',
        },
      },
      subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }],
    });
    expect(r.slices[0]?.metadata?.labels).to.deep.equal({
      team: 'x',
      'kubernetes.io/service-name': 'svc',
      'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io',
    });
    expect(r.slices[0]?.metadata?.annotations).to.deep.equal({ keep: 'me' });
  });

  it('refuses as the controller does: skip-mirror label, leader record, selector, no Service', () => {
    const eps = (
      labels?: Record<string, string>,
      annotations?: Record<string, string>,
    ): V1Endpoints => ({
      metadata: {
        namespace: 'default',
        name: 'my-service',
        ...(labels ? { labels } : {}),
        ...(annotations ? { annotations } : {}),
      },
    });
    expect(
      mirrorRefusal(eps({ 'endpointslice.kubernetes.io/skip-mirror': 'true' }), selectorless),
    ).to.match(/skip-mirror/);
    expect(
      mirrorRefusal(eps({ 'endpointslice.kubernetes.io/skip-mirror': 'false' }), selectorless),
    ).to.equal(undefined);
    expect(
      mirrorRefusal(
        eps(undefined, { 'control-plane.alpha.kubernetes.io/leader': '{}' }),
        selectorless,
      ),
    ).to.match(/leader/);
    expect(
      mirrorRefusal(eps(), {
        ...selectorless,
        spec: { ...selectorless.spec, selector: { app: 'x' } },
      }),
    ).to.match(/selector/);
    expect(mirrorRefusal(eps(), undefined)).to.match(/no Service/);
  });

  it('every valid address appears exactly once, with its readiness, in a slice of its family', () => {
    const ip4 = fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `10.9.${a}.${b}`);
    // Canonical (RFC 5952) text by construction, so each address has one spelling.
    const ip6 = fc
      .tuple(fc.integer({ min: 1, max: 0xffff }), fc.nat(0xffff))
      .map(([a, b]) => `fd00::${a.toString(16)}:${b.toString(16)}`);
    const addr = fc.oneof(ip4, ip6);
    fc.assert(
      fc.property(
        fc.uniqueArray(addr, { maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (ips, ready) => {
          const ep: V1Endpoints = {
            metadata: { namespace: 'ns', name: 'p' },
            subsets: [
              {
                addresses: ips.filter((_, i) => ready[i]).map((ip) => ({ ip })),
                notReadyAddresses: ips.filter((_, i) => !ready[i]).map((ip) => ({ ip })),
                ports: [{ port: 80 }],
              },
            ],
          };
          const seen = new Map<string, boolean>();
          for (const s of mirrorEndpoints(ep).slices) {
            for (const e of s.endpoints) {
              const a = e.addresses[0] ?? '';
              expect(seen.has(a)).to.equal(false);
              expect(s.addressType).to.equal(a.includes(':') ? 'IPv6' : 'IPv4');
              seen.set(a, e.conditions?.ready === true);
            }
          }
          expect(seen.size).to.equal(ips.length);
          ips.forEach((ip, i) => expect(seen.get(ip), ip).to.equal(ready[i]));
        },
      ),
      { numRuns: 200 },
    );
  });
});
