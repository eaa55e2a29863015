// Properties of translate over wild but schema-shaped input: it never throws, its output
// is well-formed, and it does not depend on the order of slices, endpoints or slice ports.
import { expect } from 'chai';
import fc from 'fast-check';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { BlockList, SocketAddress, isIPv4, isIPv6 } from 'node:net';
import { translate, type TranslateResult } from '../../../lib/model/index.js';
import { config } from './fixtures.js';

// The checks below use node:net (libuv's C inet_pton/inet_ntop and BlockList), not the
// project's codec or classifier that translate itself uses, so a bug shared by translate
// and its checker cannot hide.
// One list per family: node checks IPv4 addresses against IPv6 rules as ::ffff:a.b.c.d.
const NOT_UNICAST = { IPv4: new BlockList(), IPv6: new BlockList() };
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['224.0.0.0', 4],
  ['255.255.255.255', 32],
] as const)
  NOT_UNICAST.IPv4.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_UNICAST.IPv6.addSubnet(net, prefix, 'ipv6');

/** The family of canonical address text, per node:net; undefined for anything else. */
function familyOf(text: string): 'IPv4' | 'IPv6' | undefined {
  if (isIPv4(text)) return 'IPv4';
  if (!isIPv6(text)) return undefined;
  // libuv's inet_ntop (the same algorithm as glibc's) must print it the same way.
  return new SocketAddress({ address: text, family: 'ipv6' }).address === text ? 'IPv6' : undefined;
}

function unicast(text: string, family: 'IPv4' | 'IPv6'): boolean {
  return !NOT_UNICAST[family].check(text, family === 'IPv4' ? 'ipv4' : 'ipv6');
}

// Weighted towards valid values, so that most runs produce virtual servers and real
// servers, with enough garbage mixed in to reach every rejection path.
const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const ipish = fc.oneof(
  w(
    8,
    fc.constantFrom(
      '10.0.170.92',
      '10.0.0.10',
      '10.244.1.5',
      '10.244.2.5',
      '10.244.1.6',
      '192.168.10.11',
    ),
  ),
  w(4, fc.constantFrom('fd00:10:96::a', 'FD00:10:244:1::5', 'fd00:10:244:1::5', '2001:db8::11')),
  w(2, fc.constantFrom('127.0.0.1', '169.254.1.1', '224.0.0.5', '0.0.0.0', '255.255.255.255')),
  w(1, fc.constantFrom('::1', 'fe80::1', '::ffff:10.0.0.1', '::')),
  w(1, fc.ipV4()),
  w(1, fc.ipV6()),
  w(1, fc.constantFrom('None', '', '1.2.3', 'not-an-ip', '300.1.1.1', 'fe80::1%eth0')),
  w(1, fc.string({ maxLength: 12 })),
  w(1, fc.constantFrom(undefined, null, 42, true)),
);
const endpointIpish = fc.oneof(
  w(12, fc.constantFrom('10.244.1.5', '10.244.2.5', '10.244.1.6', '10.244.2.6')),
  w(3, fc.constantFrom('fd00:10:244:1::5', 'FD00:10:244:2::5')),
  w(2, ipish),
);
const portish = fc.oneof(
  w(8, fc.constantFrom(80, 443, 53, 8080)),
  w(2, fc.integer({ min: 1, max: 65535 })),
  w(1, fc.constantFrom(0, -1, 65536, 70000, 1.5, Number.NaN)),
  w(1, fc.constantFrom(undefined, null, '80', 'http')),
);
const protocolish = fc.oneof(
  w(8, fc.constantFrom('TCP', undefined)),
  w(2, fc.constantFrom('UDP', 'SCTP')),
  w(1, fc.constantFrom('tcp', 'ICMP', null, 6)),
);
const nameish = fc.oneof(
  w(8, fc.constantFrom('', undefined)),
  w(2, fc.constant('http')),
  w(1, fc.constantFrom('https', null, 7)),
);
const boolish = fc.oneof(w(8, fc.boolean()), w(1, fc.constantFrom(undefined, null, 'yes')));
const nodeish = fc.oneof(
  w(8, fc.constantFrom('node-a', 'node-b')),
  w(1, fc.constantFrom('', undefined, 3)),
);
const maybe = <T>(a: fc.Arbitrary<T>) =>
  fc.oneof(w(30, a), w(1, fc.constant(undefined)), w(1, fc.anything({ maxDepth: 1 })));

const servicePort = fc.record(
  {
    name: nameish,
    port: portish,
    nodePort: portish,
    protocol: protocolish,
    targetPort: fc.oneof(portish, nameish),
    appProtocol: fc.constantFrom(undefined, 'http'),
  },
  { requiredKeys: ['port'] },
);

const service = fc.record({
  metadata: fc.record(
    {
      name: fc.oneof(w(8, fc.constant('svc-web')), w(1, fc.constantFrom('', undefined, 5))),
      namespace: fc.constantFrom('default', 'prod', undefined),
      labels: maybe(fc.dictionary(fc.constantFrom('tier', 'app'), fc.constantFrom('cache', 'web'))),
      annotations: maybe(
        fc.record(
          {
            'kube-ipvs.io/scheduler': fc.constantFrom('rr', 'sh', 'mh', 'bogus', ' lc ', 7),
            'kube-ipvs.io/scheduler-flags': fc.constantFrom(
              'sh-port',
              'mh-port,flag-1',
              'flag-3',
              'nope',
              '',
              1,
            ),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: ['name'] },
  ),
  spec: maybe(
    fc.record(
      {
        type: fc.oneof(
          w(8, fc.constantFrom(undefined, 'ClusterIP', 'NodePort', 'LoadBalancer')),
          w(1, fc.constantFrom('ExternalName', 'Bogus', null)),
        ),
        clusterIP: fc.oneof(w(6, fc.constantFrom('10.0.170.92', 'fd00:10:96::a')), w(1, ipish)),
        clusterIPs: maybe(fc.array(ipish, { minLength: 1, maxLength: 3 })),
        ports: maybe(fc.array(maybe(servicePort), { minLength: 1, maxLength: 4 })),
        externalIPs: maybe(fc.array(ipish, { maxLength: 3 })),
        sessionAffinity: fc.constantFrom(undefined, 'None', 'ClientIP', 'Sticky'),
        sessionAffinityConfig: maybe(
          fc.record({
            clientIP: maybe(
              fc.record({ timeoutSeconds: maybe(fc.integer({ min: -5, max: 90000 })) }),
            ),
          }),
        ),
        externalTrafficPolicy: fc.constantFrom(undefined, 'Cluster', 'Local', 'Global', 9),
        internalTrafficPolicy: fc.constantFrom(undefined, 'Cluster', 'Local', 'x'),
        allocateLoadBalancerNodePorts: boolish,
        healthCheckNodePort: portish,
        loadBalancerSourceRanges: maybe(
          fc.array(
            fc.oneof(fc.constantFrom('10.0.0.0/8', 'fd00::/8', 'x/1', ' 1.2.3.0/24'), ipish),
            { maxLength: 3 },
          ),
        ),
      },
      { requiredKeys: ['type', 'clusterIP', 'ports'] },
    ),
  ),
  status: maybe(
    fc.record({
      loadBalancer: maybe(
        fc.record({
          ingress: maybe(
            fc.array(
              fc.record(
                {
                  ip: ipish,
                  hostname: fc.constantFrom(undefined, 'lb.example.com'),
                  ipMode: fc.constantFrom(undefined, 'VIP', 'Proxy', 4),
                },
                { requiredKeys: [] },
              ),
              { maxLength: 3 },
            ),
          ),
        }),
      ),
    }),
  ),
});

const endpoint = fc.record(
  {
    addresses: maybe(fc.array(endpointIpish, { minLength: 1, maxLength: 2 })),
    conditions: maybe(
      fc.record({ ready: boolish, serving: boolish, terminating: boolish }, { requiredKeys: [] }),
    ),
    nodeName: nodeish,
  },
  { requiredKeys: ['addresses'] },
);

const endpointSlice = fc.record(
  {
    metadata: fc.record(
      {
        name: fc.constantFrom('s1', 's2', 's3', undefined),
        namespace: fc.oneof(
          w(16, fc.constantFrom('default', undefined)),
          w(1, fc.constant('prod')),
        ),
        labels: fc.record({
          'kubernetes.io/service-name': fc.oneof(
            w(8, fc.constant('svc-web')),
            w(1, fc.constantFrom('other', undefined)),
          ),
        }),
      },
      { requiredKeys: ['labels'] },
    ),
    addressType: fc.oneof(
      w(12, fc.constant('IPv4')),
      w(4, fc.constant('IPv6')),
      w(1, fc.constantFrom('FQDN', undefined, 1)),
    ),
    ports: maybe(
      fc.array(
        fc.record(
          { name: nameish, port: portish, protocol: protocolish },
          { requiredKeys: ['port'] },
        ),
        { minLength: 1, maxLength: 3 },
      ),
    ),
    endpoints: maybe(fc.array(endpoint, { minLength: 1, maxLength: 6 })),
  },
  { requiredKeys: ['metadata', 'addressType', 'ports', 'endpoints'] },
);

const nodeContext = fc.record({
  name: fc.constantFrom('node-a', 'node-b', ''),
  addresses: fc.array(ipish, { maxLength: 4 }) as fc.Arbitrary<string[]>,
});

const cfg = fc.record({
  nodePortAddresses: fc.constantFrom<string[]>(
    [],
    ['192.168.0.0/16'],
    ['127.0.0.0/8', '::/0'],
    ['primary'],
  ),
  scheduler: fc.constantFrom('rr' as const, 'sh' as const),
});

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Reorder slices, each slice's endpoints and each slice's ports. */
function reorder(slices: unknown[], seed: number): unknown[] {
  return shuffle(slices, seed).map((raw, k) => {
    if (raw === null || typeof raw !== 'object') return raw;
    const s = { ...(raw as Record<string, unknown>) };
    if (Array.isArray(s.endpoints)) s.endpoints = shuffle(s.endpoints, seed + k + 1);
    if (Array.isArray(s.ports)) s.ports = shuffle(s.ports, seed + k + 7);
    return s;
  });
}

/**
 * Skipped findings name positions inside slices; reordering moves those, not the findings.
 * Compared as a set: unnamed slices share one object name, so findings can coincide.
 */
function positionless(r: TranslateResult) {
  return {
    virtualServers: r.virtualServers,
    healthCheck: r.healthCheck,
    skipped: r.skipped
      .map(
        (s) => `${s.object}|${s.field.replace(/^(endpoints|ports)\[\d+\]/, '$1[*]')}|${s.reason}`,
      )
      .filter((x, i, all) => all.indexOf(x) === i)
      .sort(),
  };
}

describe('model/translate properties', () => {
  it('never throws on wild Services and EndpointSlices, and its output is well-formed', () => {
    // Guard: the property must see real output, not pass on empty results.
    let runs = 0;
    let withVirtualServers = 0;
    let withRealServers = 0;
    let withIPv6 = 0;
    fc.assert(
      fc.property(
        service,
        fc.array(endpointSlice, { maxLength: 4 }),
        nodeContext,
        cfg,
        (s, slices, node, c) => {
          const r = translate(
            s as unknown as V1Service,
            slices as unknown as V1EndpointSlice[],
            node,
            config(c),
          );
          const keys = r.virtualServers.map((v) => v.key);
          expect(new Set(keys).size).to.equal(keys.length);
          runs++;
          if (r.virtualServers.length > 0) withVirtualServers++;
          if (r.virtualServers.some((v) => v.realServers.length > 0)) withRealServers++;
          if (r.virtualServers.some((v) => v.family === 'IPv6')) withIPv6++;
          for (const v of r.virtualServers) {
            expect(v.port).to.be.within(1, 65535);
            expect(familyOf(v.address), v.address).to.equal(v.family);
            // Virtual IPs are unicast; NodePorts go where nodePortAddresses selects.
            if (v.owner.kind !== 'NodePort')
              expect(unicast(v.address, v.family), v.address).to.equal(true);
            const bracketed = v.family === 'IPv6' ? `[${v.address}]` : v.address;
            expect(v.key).to.equal(`${v.protocol}/${bracketed}:${v.port}`);
            expect(['TCP', 'UDP', 'SCTP']).to.include(v.protocol);
            for (const rs of v.realServers) {
              expect(familyOf(rs.address), rs.address).to.equal(v.family);
              expect(unicast(rs.address, v.family), rs.address).to.equal(true);
              expect(rs.port).to.be.within(1, 65535);
              expect(rs.weight).to.equal(1);
            }
          }
          for (const k of [...r.skipped, ...r.warnings])
            expect(k.reason).to.be.a('string').and.not.equal('');
        },
      ),
      { numRuns: 1000 },
    );
    expect(runs).to.equal(1000);
    expect(withVirtualServers, 'runs with virtual servers').to.be.greaterThan(runs / 5);
    expect(withRealServers, 'runs with real servers').to.be.greaterThan(runs / 20);
    expect(withIPv6, 'runs with IPv6 virtual servers').to.be.greaterThan(runs / 50);
  });

  it('R7.3/R5.3: output is deterministic and independent of slice, endpoint and port order', () => {
    fc.assert(
      fc.property(
        service,
        fc.array(endpointSlice, { maxLength: 4 }),
        nodeContext,
        cfg,
        fc.nat(),
        (s, slices, node, c, seed) => {
          const conf = config(c);
          const a = translate(
            s as unknown as V1Service,
            slices as unknown as V1EndpointSlice[],
            node,
            conf,
          );
          const again = translate(
            s as unknown as V1Service,
            slices as unknown as V1EndpointSlice[],
            node,
            conf,
          );
          expect(again).to.deep.equal(a);
          const b = translate(
            s as unknown as V1Service,
            reorder(slices, seed) as V1EndpointSlice[],
            node,
            conf,
          );
          expect(positionless(b)).to.deep.equal(positionless(a));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('R7.3: order independence with well-formed slices that all belong to the Service', () => {
    const goodSlice = fc.record({
      metadata: fc.record({
        name: fc.constantFrom('a', 'b', 'c'),
        labels: fc.constant({ 'kubernetes.io/service-name': 'svc-web' }),
      }),
      addressType: fc.constant('IPv4'),
      ports: fc.array(
        fc.record({
          name: fc.constantFrom('', 'http'),
          port: fc.integer({ min: 1, max: 9 }),
          protocol: fc.constantFrom('TCP', 'UDP'),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      endpoints: fc.array(
        fc.record({
          addresses: fc.tuple(fc.constantFrom('10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4')),
          conditions: fc.record({
            ready: fc.boolean(),
            serving: fc.boolean(),
            terminating: fc.boolean(),
          }),
          nodeName: fc.constantFrom('node-a', 'node-b'),
        }),
        { maxLength: 6 },
      ),
    });
    const s: V1Service = {
      metadata: { name: 'svc-web', namespace: 'default' },
      spec: {
        type: 'NodePort',
        clusterIP: '10.0.170.92',
        externalTrafficPolicy: 'Local',
        ports: [
          { name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' },
          { port: 81, nodePort: 30081, protocol: 'UDP' },
        ],
      },
    };
    let withRealServers = 0;
    fc.assert(
      fc.property(fc.array(goodSlice, { maxLength: 4 }), fc.nat(), (slices, seed) => {
        const node = { name: 'node-a', addresses: ['192.168.10.11'] };
        const a = translate(s, slices as V1EndpointSlice[], node, config());
        const b = translate(s, reorder(slices, seed) as V1EndpointSlice[], node, config());
        expect(b).to.deep.equal(a);
        expect(a.skipped).to.deep.equal([]);
        // Two ports × (cluster IP + NodePort): never empty, whatever the slices say.
        expect(a.virtualServers).to.have.length(4);
        if (a.virtualServers.some((v) => v.realServers.length > 0)) withRealServers++;
      }),
      { numRuns: 300 },
    );
    expect(withRealServers, 'runs with real servers').to.be.greaterThan(30);
  });
});
