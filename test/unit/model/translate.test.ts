import { expect } from 'chai';
import { translate } from '../../../lib/model/index.js';
import { A1, B1, NODE_A, NODE_B, NODE_C, config, slice, svc, table } from './fixtures.js';

describe('model/translate', () => {
  describe('Service types', () => {
    it('R1.1/R4.1: a ClusterIP Service gives one VS on clusterIP:port with the ready endpoints, on every node', () => {
      for (const node of [NODE_A, NODE_B, NODE_C]) {
        const r = translate(svc(), [slice([A1, B1])], node, config());
        expect(table(r.virtualServers)).to.deep.equal({
          'TCP 10.0.170.92:80': ['10.244.1.5:8080', '10.244.2.5:8080'],
        });
        const vs = r.virtualServers[0];
        expect(vs?.scheduler).to.equal('rr');
        expect(vs?.owner).to.deep.equal({
          namespace: 'default',
          name: 'svc-web',
          portName: '',
          servicePort: 80,
          kind: 'ClusterIP',
        });
        expect(vs?.key).to.equal('TCP/10.0.170.92:80');
        expect(vs?.realServers.every((rs) => rs.weight === 1)).to.equal(true);
        expect(r.skipped).to.deep.equal([]);
      }
    });

    it('R1.8: a user-chosen clusterIP is programmed like an allocated one', () => {
      const r = translate(
        svc({ spec: { clusterIP: '10.0.171.239', clusterIPs: ['10.0.171.239'] } }),
        [slice([A1])],
        NODE_A,
        config(),
      );
      expect(Object.keys(table(r.virtualServers))).to.deep.equal(['TCP 10.0.171.239:80']);
    });

    it('R4.2: NodePort gives the same real servers on every node address and on the clusterIP', () => {
      const s = svc({
        spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 80, nodePort: 30007 }] },
      });
      const eps = [slice([A1, B1], [{ port: 80 }])];
      for (const [node, ip] of [
        [NODE_A, '192.168.10.11'],
        [NODE_B, '192.168.10.12'],
        [NODE_C, '192.168.10.13'],
      ] as const) {
        const t = table(translate(s, eps, node, config()).virtualServers);
        expect(t).to.deep.equal({
          'TCP 10.0.170.92:80': ['10.244.1.5:80', '10.244.2.5:80'],
          [`TCP ${ip}:30007`]: ['10.244.1.5:80', '10.244.2.5:80'],
        });
      }
    });

    it('R4.3: LoadBalancer programs clusterIP, every node port and the ingress IP', () => {
      const s = svc({
        spec: {
          type: 'LoadBalancer',
          clusterIP: '10.0.171.239',
          clusterIPs: ['10.0.171.239'],
          ports: [{ port: 80, targetPort: 9376, nodePort: 30061 }],
        },
        status: { loadBalancer: { ingress: [{ ip: '146.148.47.155' }] } },
      });
      const r = translate(s, [slice([A1], [{ port: 9376 }])], NODE_B, config());
      expect(table(r.virtualServers)).to.deep.equal({
        'TCP 10.0.171.239:80': ['10.244.1.5:9376'],
        'TCP 146.148.47.155:80': ['10.244.1.5:9376'],
        'TCP 192.168.10.12:30061': ['10.244.1.5:9376'],
      });
      expect(r.virtualServers.map((v) => v.owner.kind)).to.deep.equal([
        'ClusterIP',
        'LoadBalancer',
        'NodePort',
      ]);
    });

    it('R4.4: ExternalName programs nothing, even when externalName looks like an IP and a slice exists', () => {
      for (const externalName of ['my.database.example.com', '192.0.2.10']) {
        const s = svc({
          spec: { type: 'ExternalName', externalName, clusterIP: undefined, clusterIPs: undefined },
        });
        const r = translate(s, [slice([A1])], NODE_A, config());
        expect(r.virtualServers).to.deep.equal([]);
        expect(r.skipped).to.deep.equal([]);
      }
    });

    it('R4.5: a headless Service is ignored completely', () => {
      const s = svc({ spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] } });
      const r = translate(s, [slice([A1, B1], [{ port: 80 }])], NODE_A, config());
      expect(r.virtualServers).to.deep.equal([]);
      expect(r.skipped).to.deep.equal([]);
    });

    it('R4.6: a type change from NodePort 31704 to LoadBalancer 30163 moves the node port', () => {
      const eps = [slice([A1], [{ port: 80 }])];
      const before = translate(
        svc({
          spec: {
            type: 'NodePort',
            ports: [{ name: 'http', port: 8080, targetPort: 80, nodePort: 31704 }],
          },
        }),
        [slice([A1], [{ name: 'http', port: 80 }])],
        NODE_A,
        config(),
      );
      const after = translate(
        svc({
          spec: {
            type: 'LoadBalancer',
            ports: [{ name: 'http', port: 8080, targetPort: 80, nodePort: 30163 }],
          },
        }),
        [slice([A1], [{ name: 'http', port: 80 }])],
        NODE_A,
        config(),
      );
      expect(Object.keys(table(before.virtualServers))).to.include('TCP 192.168.10.11:31704');
      expect(Object.keys(table(after.virtualServers))).to.deep.equal([
        'TCP 10.0.170.92:8080',
        'TCP 192.168.10.11:30163',
      ]);
      const clusterOnly = translate(
        svc({ spec: { type: 'ClusterIP', ports: [{ port: 80, nodePort: 31704 }] } }),
        eps,
        NODE_A,
        config(),
      );
      expect(Object.keys(table(clusterOnly.virtualServers))).to.deep.equal(['TCP 10.0.170.92:80']);
    });

    it('an unknown Service type skips the Service with a reason', () => {
      const r = translate(svc({ spec: { type: 'Bogus' } }), [slice([A1])], NODE_A, config());
      expect(r.virtualServers).to.deep.equal([]);
      expect(r.skipped).to.deep.equal([
        {
          object: 'Service default/svc-web',
          field: 'spec.type',
          reason: '"Bogus" is not ClusterIP, NodePort, LoadBalancer or ExternalName',
        },
      ]);
    });
  });

  describe('ports', () => {
    it('R5.1: the real server port is the EndpointSlice port (targetPort), the VS port is port', () => {
      const r = translate(
        svc({
          spec: {
            type: 'NodePort',
            ports: [{ name: 'http', port: 8080, targetPort: 80, nodePort: 31704 }],
          },
        }),
        [slice([A1], [{ name: 'http', port: 80 }])],
        NODE_A,
        config(),
      );
      expect(table(r.virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:8080': ['10.244.1.5:80'],
        'TCP 192.168.10.11:31704': ['10.244.1.5:80'],
      });
    });

    it('R5.2: a named targetPort resolves per EndpointSlice (80 in one, 8080 in another)', () => {
      const s = svc({
        spec: { ports: [{ name: 'name-of-service-port', port: 80, targetPort: 'http-web-svc' }] },
      });
      const slices = [
        slice([{ ip: '10.244.1.5' }], [{ name: 'name-of-service-port', port: 80 }], { name: 's1' }),
        slice([{ ip: '10.244.2.5' }], [{ name: 'name-of-service-port', port: 8080 }], {
          name: 's2',
        }),
      ];
      const r = translate(s, slices, NODE_A, config());
      expect(table(r.virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': ['10.244.1.5:80', '10.244.2.5:8080'],
      });
    });

    it('R5.3: multi-port Services match endpoint ports by name, whatever their order', () => {
      const s = svc({
        spec: {
          ports: [
            { name: 'http', port: 80, targetPort: 9376 },
            { name: 'https', port: 443, targetPort: 9377 },
          ],
        },
      });
      const want = {
        'TCP 10.0.170.92:80': ['10.244.1.5:9376'],
        'TCP 10.0.170.92:443': ['10.244.1.5:9377'],
      };
      const p1 = [
        { name: 'http', port: 9376 },
        { name: 'https', port: 9377 },
      ];
      expect(table(translate(s, [slice([A1], p1)], NODE_A, config()).virtualServers)).to.deep.equal(
        want,
      );
      expect(
        table(translate(s, [slice([A1], [...p1].reverse())], NODE_A, config()).virtualServers),
      ).to.deep.equal(want);
    });

    it('R5.4: the same number with UDP and TCP gives two entries, matched by name and protocol', () => {
      const s = svc({
        name: 'kube-dns',
        spec: {
          clusterIP: '10.0.0.10',
          clusterIPs: ['10.0.0.10'],
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          ],
        },
      });
      const eps = slice(
        [{ ip: '10.244.1.9' }],
        [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
        { service: 'kube-dns' },
      );
      const t = table(translate(s, [eps], NODE_A, config()).virtualServers);
      expect(t).to.deep.equal({
        'TCP 10.0.0.10:53': ['10.244.1.9:53'],
        'UDP 10.0.0.10:53': ['10.244.1.9:53'],
      });
    });

    it('R5.4: a slice port of the right name but another protocol is not used', () => {
      const s = svc({ spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } });
      const r = translate(
        s,
        [slice([A1], [{ name: 'dns', port: 53, protocol: 'TCP' }])],
        NODE_A,
        config(),
      );
      expect(table(r.virtualServers)).to.deep.equal({ 'UDP 10.0.170.92:53': [] });
    });

    it('a port out of range or an unknown protocol skips that port only, with a reason', () => {
      const s = svc({
        spec: {
          ports: [
            { name: 'a', port: 70000 },
            { name: 'b', port: 81, protocol: 'ICMP' },
            { name: 'c', port: 82 },
          ],
        },
      });
      const r = translate(s, [slice([A1], [{ name: 'c', port: 8082 }])], NODE_A, config());
      expect(table(r.virtualServers)).to.deep.equal({ 'TCP 10.0.170.92:82': ['10.244.1.5:8082'] });
      expect(r.skipped).to.deep.equal([
        {
          object: 'Service default/svc-web',
          field: 'spec.ports[0].port',
          reason: '70000 is not a port (1-65535)',
        },
        {
          object: 'Service default/svc-web',
          field: 'spec.ports[1].protocol',
          reason: '"ICMP" is not TCP, UDP or SCTP',
        },
      ]);
    });
  });

  describe('protocols', () => {
    it('R6.1: a port without protocol is TCP only', () => {
      const r = translate(
        svc({ spec: { ports: [{ port: 80 }] } }),
        [slice([A1], [{ port: 80 }])],
        NODE_A,
        config(),
      );
      expect(r.virtualServers.map((v) => v.protocol)).to.deep.equal(['TCP']);
    });

    it('R6.2: a UDP NodePort gives UDP entries on clusterIP and node IP', () => {
      const s = svc({
        spec: { type: 'NodePort', ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }] },
      });
      const t = table(
        translate(s, [slice([A1], [{ port: 53, protocol: 'UDP' }])], NODE_A, config())
          .virtualServers,
      );
      expect(t).to.deep.equal({
        'UDP 10.0.170.92:53': ['10.244.1.5:53'],
        'UDP 192.168.10.11:30053': ['10.244.1.5:53'],
      });
    });

    it('R6.3: SCTP gives an SCTP virtual server', () => {
      const s = svc({ spec: { ports: [{ port: 9000, targetPort: 9000, protocol: 'SCTP' }] } });
      const t = table(
        translate(s, [slice([A1], [{ port: 9000, protocol: 'SCTP' }])], NODE_A, config())
          .virtualServers,
      );
      expect(t).to.deep.equal({ 'SCTP 10.0.170.92:9000': ['10.244.1.5:9000'] });
    });

    it('R6.4: a mixed-protocol LoadBalancer gets TCP and UDP on clusterIP and node IPs', () => {
      const s = svc({
        spec: {
          type: 'LoadBalancer',
          ports: [
            { name: 't', port: 53, protocol: 'TCP', nodePort: 30053 },
            { name: 'u', port: 53, protocol: 'UDP', nodePort: 30054 },
          ],
        },
      });
      const eps = slice(
        [A1],
        [
          { name: 't', port: 53, protocol: 'TCP' },
          { name: 'u', port: 53, protocol: 'UDP' },
        ],
      );
      expect(
        Object.keys(table(translate(s, [eps], NODE_A, config()).virtualServers)),
      ).to.deep.equal([
        'TCP 10.0.170.92:53',
        'UDP 10.0.170.92:53',
        'TCP 192.168.10.11:30053',
        'UDP 192.168.10.11:30054',
      ]);
    });
  });

  describe('endpoints', () => {
    it('R7.1/R7.2: a selectorless Service with a manual EndpointSlice works like a selector one', () => {
      const s = svc({
        name: 'my-service',
        spec: { selector: undefined, ports: [{ protocol: 'TCP', port: 80, targetPort: 9376 }] },
      });
      const manual = slice([{ ip: '192.0.2.42', ready: true }], [{ port: 9376 }], {
        service: 'my-service',
      });
      expect(table(translate(s, [manual], NODE_A, config()).virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': ['192.0.2.42:9376'],
      });
      expect(table(translate(s, [], NODE_A, config()).virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': [],
      });
    });

    it('R7.1: a slice of another Service (or namespace) is never used and is reported', () => {
      const other = slice([{ ip: '192.0.2.43' }], [{ port: 8080 }], {
        service: 'other',
        name: 'other-x',
      });
      const elsewhere = slice([{ ip: '192.0.2.44' }], [{ port: 8080 }], {
        namespace: 'prod',
        name: 'p',
      });
      const r = translate(svc(), [other, elsewhere, slice([A1])], NODE_A, config());
      expect(table(r.virtualServers)).to.deep.equal({ 'TCP 10.0.170.92:80': ['10.244.1.5:8080'] });
      expect(r.skipped.map((s) => s.object)).to.deep.equal([
        'EndpointSlice default/other-x',
        'EndpointSlice prod/p',
      ]);
    });

    it('R7.3: all slices are merged (100+100+50 = 250) and an endpoint in two slices is one RS', () => {
      const ip = (i: number) => `10.244.${Math.floor(i / 200)}.${(i % 200) + 1}`;
      const mk = (from: number, to: number, name: string) =>
        slice(
          Array.from({ length: to - from }, (_, k) => ({ ip: ip(from + k) })),
          [{ port: 8080 }],
          { name },
        );
      const slices = [mk(0, 100, 'a'), mk(100, 200, 'b'), mk(200, 250, 'c'), mk(120, 121, 'dup')];
      const r = translate(svc(), slices, NODE_A, config());
      expect(r.virtualServers[0]?.realServers).to.have.length(250);
      const fewer = translate(svc(), slices.slice(0, 2), NODE_A, config());
      expect(fewer.virtualServers[0]?.realServers).to.have.length(200);
    });

    it("R7.5: the cluster's VIP set is only looked up, never walked (per-event work stays O(this Service))", () => {
      // A full sync translates every Service: copying the whole set for each one made 10k
      // Services O(n²) (bench/sync: 108 s instead of 4 s).
      class LookupOnly extends Set<string> {
        override [Symbol.iterator](): SetIterator<string> {
          throw new Error('the VIP set was walked');
        }
        override forEach(): void {
          throw new Error('the VIP set was walked');
        }
      }
      const vips = new LookupOnly();
      vips.add('10.0.0.10');
      const eps = slice([{ ip: '10.0.0.10' }, A1]);
      const r = translate(svc(), [eps], NODE_A, config(), { virtualIPs: vips });
      expect(table(r.virtualServers)).to.deep.equal({ 'TCP 10.0.170.92:80': ['10.244.1.5:8080'] });
      expect(r.skipped.map((x) => x.reason)).to.deep.equal([
        '10.0.0.10 is a Service virtual IP, not allowed as an endpoint',
      ]);
    });

    it('R7.5: loopback, link-local, multicast and VIP endpoints are skipped with a reason; the rest are used', () => {
      const eps = slice([
        { ip: '127.0.0.1' },
        { ip: '169.254.1.1' },
        { ip: '224.0.0.5' },
        { ip: '10.0.0.10' },
        { ip: '10.0.170.92' },
        { ip: 'not-an-ip' },
        { ip: 'fd00::5' },
        A1,
      ]);
      const r = translate(svc(), [eps], NODE_A, config(), { virtualIPs: new Set(['10.0.0.10']) });
      expect(table(r.virtualServers)).to.deep.equal({ 'TCP 10.0.170.92:80': ['10.244.1.5:8080'] });
      expect(r.skipped).to.deep.equal(
        [
          [
            'endpoints[0].addresses[0]',
            '127.0.0.1 is a loopback address, not allowed as an endpoint',
          ],
          [
            'endpoints[1].addresses[0]',
            '169.254.1.1 is a link-local address, not allowed as an endpoint',
          ],
          [
            'endpoints[2].addresses[0]',
            '224.0.0.5 is a multicast address, not allowed as an endpoint',
          ],
          [
            'endpoints[3].addresses[0]',
            '10.0.0.10 is a Service virtual IP, not allowed as an endpoint',
          ],
          [
            'endpoints[4].addresses[0]',
            '10.0.170.92 is a Service virtual IP, not allowed as an endpoint',
          ],
          ['endpoints[5].addresses[0]', '"not-an-ip" is not an IP address'],
          ['endpoints[6].addresses[0]', 'fd00::5 is IPv6 in an IPv4 slice'],
        ].map(([field, reason]) => ({
          object: 'EndpointSlice default/svc-web-abc',
          field,
          reason,
        })),
      );
    });

    it('R7.5: IPv6 loopback and link-local endpoints are skipped', () => {
      const s = svc({
        spec: { clusterIP: 'fd00:10:96::a', clusterIPs: ['fd00:10:96::a'], ipFamilies: ['IPv6'] },
      });
      const eps = slice(
        [{ ip: '::1' }, { ip: 'fe80::1' }, { ip: 'fd00:10:244:1::5' }],
        [{ port: 8080 }],
        { addressType: 'IPv6' },
      );
      const r = translate(s, [eps], NODE_A, config());
      expect(table(r.virtualServers)).to.deep.equal({
        'TCP [fd00:10:96::a]:80': ['[fd00:10:244:1::5]:8080'],
      });
      expect(r.skipped.map((x) => x.field)).to.deep.equal([
        'endpoints[0].addresses[0]',
        'endpoints[1].addresses[0]',
      ]);
    });

    it('R7.6: appProtocol changes nothing', () => {
      const plain = translate(svc(), [slice([A1])], NODE_A, config());
      const withApp = translate(
        svc({
          spec: {
            ports: [
              { port: 80, targetPort: 8080, appProtocol: 'mycompany.com/my-custom-protocol' },
            ],
          },
        }),
        [slice([A1])],
        NODE_A,
        config(),
      );
      expect(withApp).to.deep.equal(plain);
    });

    it('R8.1: only ready endpoints receive traffic; unset ready counts as ready', () => {
      const r = translate(
        svc(),
        [slice([{ ...A1, ready: true }, { ...B1, ready: false }, { ip: '10.244.3.5' }])],
        NODE_A,
        config(),
      );
      expect(table(r.virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': ['10.244.1.5:8080', '10.244.3.5:8080'],
      });
    });

    it('R8.2 (KEP-1669): with no ready endpoint, serving+terminating ones are used, never non-serving ones', () => {
      const r = translate(
        svc(),
        [
          slice([
            { ...A1, ready: false, serving: true, terminating: true },
            { ...B1, ready: false, serving: false, terminating: true },
            { ip: '10.244.3.5', ready: false, serving: true, terminating: false },
          ]),
        ],
        NODE_A,
        config(),
      );
      expect(table(r.virtualServers)).to.deep.equal({ 'TCP 10.0.170.92:80': ['10.244.1.5:8080'] });
      const oneReady = translate(
        svc(),
        [
          slice([
            { ...A1, ready: false, serving: true, terminating: true },
            { ...B1, ready: true },
          ]),
        ],
        NODE_A,
        config(),
      );
      expect(table(oneReady.virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': ['10.244.2.5:8080'],
      });
    });
  });

  describe('session affinity', () => {
    it('R9.1: ClientIP gives persistence 10800 s with a per-client netmask; None gives none', () => {
      const sticky = translate(
        svc({ spec: { sessionAffinity: 'ClientIP' } }),
        [slice([A1])],
        NODE_A,
        config(),
      );
      expect(sticky.virtualServers[0]?.persistenceTimeout).to.equal(10800);
      expect(sticky.virtualServers[0]?.netmask).to.equal(32);
      const none = translate(
        svc({ spec: { sessionAffinity: 'None' } }),
        [slice([A1])],
        NODE_A,
        config(),
      );
      expect(none.virtualServers[0]?.persistenceTimeout).to.equal(0);
    });

    it('R9.2: timeoutSeconds sets the persistence; an invalid one uses 10800 and is reported', () => {
      const mk = (t: number) =>
        translate(
          svc({
            spec: {
              sessionAffinity: 'ClientIP',
              sessionAffinityConfig: { clientIP: { timeoutSeconds: t } },
            },
          }),
          [slice([A1])],
          NODE_A,
          config(),
        );
      expect(mk(60).virtualServers[0]?.persistenceTimeout).to.equal(60);
      expect(mk(120).virtualServers[0]?.persistenceTimeout).to.equal(120);
      const bad = mk(0);
      expect(bad.virtualServers[0]?.persistenceTimeout).to.equal(10800);
      // A fallback that leaves nothing out is a warning, not a skip.
      expect(bad.skipped).to.deep.equal([]);
      expect(bad.warnings[0]?.field).to.equal('spec.sessionAffinityConfig.clientIP.timeoutSeconds');
    });

    it('R9.1: persistence applies to every entry point of the Service', () => {
      const r = translate(
        svc({
          spec: {
            type: 'NodePort',
            sessionAffinity: 'ClientIP',
            externalIPs: ['80.11.12.10'],
            ports: [{ port: 80, nodePort: 30007 }],
          },
        }),
        [slice([A1], [{ port: 80 }])],
        NODE_A,
        config(),
      );
      expect(r.virtualServers.map((v) => v.persistenceTimeout)).to.deep.equal([
        10800, 10800, 10800,
      ]);
    });
  });

  describe('traffic policies', () => {
    const nodePort = (extra: object = {}) =>
      svc({
        name: 'nodeport',
        spec: {
          type: 'NodePort',
          ports: [{ port: 80, targetPort: 8080, nodePort: 30007 }],
          ...extra,
        },
      });
    const eps = [slice([A1, B1], [{ port: 8080 }], { service: 'nodeport' })];

    it('R10.1: Cluster (default) sends node-port traffic on any node to all endpoints', () => {
      const r = translate(nodePort(), eps, NODE_C, config());
      expect(table(r.virtualServers)['TCP 192.168.10.13:30007']).to.deep.equal([
        '10.244.1.5:8080',
        '10.244.2.5:8080',
      ]);
      expect(r.virtualServers.every((v) => v.trafficPolicy === 'Cluster')).to.equal(true);
    });

    it("R10.3: externalTrafficPolicy Local uses only this node's endpoints; none gives an empty VS", () => {
      const s = nodePort({ externalTrafficPolicy: 'Local' });
      const onA = translate(s, eps, NODE_A, config());
      const onC = translate(s, eps, NODE_C, config());
      expect(table(onA.virtualServers)['TCP 192.168.10.11:30007']).to.deep.equal([
        '10.244.1.5:8080',
      ]);
      expect(table(onC.virtualServers)['TCP 192.168.10.13:30007']).to.deep.equal([]);
      expect(onC.virtualServers.find((v) => v.owner.kind === 'NodePort')?.trafficPolicy).to.equal(
        'Local',
      );
    });

    it('R10.4: Local balances across all local ready endpoints', () => {
      const s = nodePort({ externalTrafficPolicy: 'Local' });
      const r = translate(
        s,
        [
          slice([A1, { ip: '10.244.1.6', node: 'node-a' }, B1], [{ port: 8080 }], {
            service: 'nodeport',
          }),
        ],
        NODE_A,
        config(),
      );
      expect(table(r.virtualServers)['TCP 192.168.10.11:30007']).to.deep.equal([
        '10.244.1.5:8080',
        '10.244.1.6:8080',
      ]);
    });

    it('R10.5: externalTrafficPolicy does not restrict the ClusterIP entry', () => {
      const r = translate(nodePort({ externalTrafficPolicy: 'Local' }), eps, NODE_C, config());
      expect(table(r.virtualServers)['TCP 10.0.170.92:80']).to.deep.equal([
        '10.244.1.5:8080',
        '10.244.2.5:8080',
      ]);
    });

    it('R8.2 (KEP-1669): under Local, all-terminating local endpoints still serve; remote ready ones are not used', () => {
      const s = nodePort({ externalTrafficPolicy: 'Local' });
      const r = translate(
        s,
        [
          slice(
            [
              { ...A1, ready: false, serving: true, terminating: true },
              { ...B1, ready: true },
            ],
            [{ port: 8080 }],
            { service: 'nodeport' },
          ),
        ],
        NODE_A,
        config(),
      );
      expect(table(r.virtualServers)['TCP 192.168.10.11:30007']).to.deep.equal(['10.244.1.5:8080']);
      expect(table(r.virtualServers)['TCP 10.0.170.92:80']).to.deep.equal(['10.244.2.5:8080']);
    });

    it('R10.6: a Local LoadBalancer reports its health check node port and local ready endpoint count', () => {
      const s = svc({
        name: 'loadbalancer',
        spec: {
          type: 'LoadBalancer',
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 32122,
          ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }],
        },
      });
      const two = [
        slice(
          [
            A1,
            { ip: '10.244.1.6', node: 'node-a' },
            { ip: '10.244.1.7', node: 'node-a', ready: false, serving: true, terminating: true },
          ],
          [{ port: 8080 }],
          { service: 'loadbalancer' },
        ),
      ];
      expect(translate(s, two, NODE_A, config()).healthCheck).to.deep.equal({
        nodePort: 32122,
        localEndpoints: 2,
      });
      expect(translate(s, two, NODE_B, config()).healthCheck).to.deep.equal({
        nodePort: 32122,
        localEndpoints: 0,
      });
      const cluster = svc({
        name: 'loadbalancer',
        spec: { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] },
      });
      expect(translate(cluster, two, NODE_A, config()).healthCheck).to.equal(undefined);
    });

    it('R11.1: internalTrafficPolicy Local restricts the ClusterIP entry to local endpoints', () => {
      const s = svc({ spec: { internalTrafficPolicy: 'Local' } });
      const eps2 = [slice([A1, B1])];
      expect(table(translate(s, eps2, NODE_A, config()).virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': ['10.244.1.5:8080'],
      });
      expect(table(translate(s, eps2, NODE_B, config()).virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': ['10.244.2.5:8080'],
      });
      expect(table(translate(s, eps2, NODE_C, config()).virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': [],
      });
    });

    it('an unknown traffic policy value is treated as Cluster and reported', () => {
      const r = translate(nodePort({ externalTrafficPolicy: 'Sideways' }), eps, NODE_C, config());
      expect(table(r.virtualServers)['TCP 192.168.10.13:30007']).to.have.length(2);
      expect(r.skipped).to.deep.equal([]);
      expect(r.warnings.map((s) => s.field)).to.deep.equal(['spec.externalTrafficPolicy']);
    });
  });

  describe('node port addresses', () => {
    const node: typeof NODE_A = {
      name: 'node-a',
      addresses: ['192.168.10.11', '10.1.1.5', '127.0.0.1', 'fe80::1', '2001:db8::11'],
    };
    const s = svc({
      spec: { type: 'NodePort', ipFamilies: ['IPv4'], ports: [{ port: 80, nodePort: 30007 }] },
    });
    const ports = (cfg = config()) =>
      translate(s, [slice([A1], [{ port: 80 }])], node, cfg)
        .virtualServers.filter((v) => v.owner.kind === 'NodePort')
        .map((v) => `${v.address}:${v.port}`);

    it('R13.1: empty nodePortAddresses means every node address of the family except loopback', () => {
      expect(ports()).to.deep.equal(['10.1.1.5:30007', '192.168.10.11:30007']);
    });

    it('R13.1: a CIDR list selects only the addresses inside it', () => {
      expect(ports(config({ nodePortAddresses: ['192.168.10.0/24'] }))).to.deep.equal([
        '192.168.10.11:30007',
      ]);
    });

    it('R13.1: 127.0.0.0/8 selects loopback only', () => {
      expect(ports(config({ nodePortAddresses: ['127.0.0.0/8'] }))).to.deep.equal([
        '127.0.0.1:30007',
      ]);
    });

    it('R13.1: a new node address shows up as a new NodePort entry', () => {
      const more = { ...node, addresses: [...node.addresses, '192.168.10.99'] };
      const r = translate(s, [slice([A1], [{ port: 80 }])], more, config());
      expect(r.virtualServers.map((v) => v.address)).to.include('192.168.10.99');
    });

    it("nodePortAddresses [primary] uses the Node object's first InternalIP per family", () => {
      const withNode = {
        ...node,
        node: {
          status: {
            addresses: [
              { type: 'Hostname', address: 'node-a' },
              { type: 'InternalIP', address: '10.1.1.5' },
              { type: 'InternalIP', address: '192.168.10.11' },
            ],
          },
        },
      };
      const r = translate(
        s,
        [slice([A1], [{ port: 80 }])],
        withNode,
        config({ nodePortAddresses: ['primary'] }),
      );
      expect(
        r.virtualServers.filter((v) => v.owner.kind === 'NodePort').map((v) => v.address),
      ).to.deep.equal(['10.1.1.5']);
    });

    it('an invalid node address is reported against the Node', () => {
      const r = translate(
        s,
        [slice([A1], [{ port: 80 }])],
        { name: 'node-a', addresses: ['300.1.1.1', '192.168.10.11'] },
        config(),
      );
      expect(r.skipped).to.deep.equal([
        {
          object: 'Node node-a',
          field: 'addresses[0]',
          reason: '"300.1.1.1" is not an IP address',
        },
      ]);
    });
  });

  describe('external IPs and load balancers', () => {
    it('R14.1: externalIPs get a VS on every node, for any Service type', () => {
      const s = svc({
        spec: {
          externalIPs: ['80.11.12.10'],
          ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 9376 }],
        },
      });
      const r = translate(s, [slice([A1], [{ name: 'http', port: 9376 }])], NODE_B, config());
      expect(table(r.virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': ['10.244.1.5:9376'],
        'TCP 80.11.12.10:80': ['10.244.1.5:9376'],
      });
      expect(r.virtualServers[1]?.owner.kind).to.equal('ExternalIP');
    });

    it('R15.2: hostname-only ingress adds nothing and reports nothing; ipMode Proxy is excluded', () => {
      const s = svc({
        spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] },
        status: {
          loadBalancer: {
            ingress: [
              { hostname: 'a3205.elb.amazonaws.com' },
              { ip: '203.0.113.140', ipMode: 'Proxy' },
              { ip: '203.0.113.141', ipMode: 'VIP' },
            ],
          },
        },
      });
      const r = translate(s, [slice([A1], [{ port: 80 }])], NODE_A, config());
      expect(Object.keys(table(r.virtualServers))).to.deep.equal([
        'TCP 10.0.170.92:80',
        'TCP 203.0.113.141:80',
      ]);
      expect(r.skipped).to.deep.equal([]);
    });

    it('R15.3: allocateLoadBalancerNodePorts false: no node port, no NodePort VS; an existing nodePort stays', () => {
      const base = { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false };
      const none = translate(
        svc({ spec: { ...base, ports: [{ port: 80, targetPort: 9376 }] } }),
        [slice([A1], [{ port: 9376 }])],
        NODE_A,
        config(),
      );
      expect(none.virtualServers.map((v) => v.owner.kind)).to.deep.equal(['ClusterIP']);
      expect(none.skipped).to.deep.equal([]);
      const kept = translate(
        svc({ spec: { ...base, ports: [{ port: 80, targetPort: 9376, nodePort: 30061 }] } }),
        [slice([A1], [{ port: 9376 }])],
        NODE_A,
        config(),
      );
      expect(Object.keys(table(kept.virtualServers))).to.include('TCP 192.168.10.11:30061');
    });

    it('R15.5: loadBalancerClass, loadBalancerIP and cloud annotations change nothing', () => {
      const spec = { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30061 }] };
      const plain = translate(svc({ spec }), [slice([A1], [{ port: 80 }])], NODE_A, config());
      const fancy = translate(
        svc({
          spec: {
            ...spec,
            loadBalancerClass: 'example.com/internal-vip',
            loadBalancerIP: '1.2.3.4',
          },
          annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
        }),
        [slice([A1], [{ port: 80 }])],
        NODE_A,
        config(),
      );
      expect(fancy.virtualServers).to.deep.equal(plain.virtualServers);
    });

    it('R15.4: loadBalancerSourceRanges are carried per family on LoadBalancer entries only', () => {
      const s = svc({
        spec: {
          type: 'LoadBalancer',
          loadBalancerSourceRanges: ['143.231.0.0/16', '2001:db8::/32'],
          ports: [{ port: 80, nodePort: 30061 }],
        },
        status: { loadBalancer: { ingress: [{ ip: '203.0.113.140' }] } },
      });
      const r = translate(s, [slice([A1], [{ port: 80 }])], NODE_A, config());
      const lb = r.virtualServers.find((v) => v.owner.kind === 'LoadBalancer');
      expect(lb?.sourceRanges).to.deep.equal(['143.231.0.0/16']);
      expect(r.virtualServers.find((v) => v.owner.kind === 'ClusterIP')?.sourceRanges).to.equal(
        undefined,
      );
    });

    it('an externalIP equal to an LB ingress IP gives one VS (LoadBalancer) and a report', () => {
      const s = svc({
        spec: {
          type: 'LoadBalancer',
          externalIPs: ['203.0.113.140'],
          ports: [{ port: 80, nodePort: 30061 }],
        },
        status: { loadBalancer: { ingress: [{ ip: '203.0.113.140' }] } },
      });
      const r = translate(s, [slice([A1], [{ port: 80 }])], NODE_A, config());
      expect(
        r.virtualServers.filter((v) => v.address === '203.0.113.140').map((v) => v.owner.kind),
      ).to.deep.equal(['LoadBalancer']);
      expect(r.skipped.map((x) => x.field)).to.deep.equal(['spec.externalIPs[0]']);
    });
  });

  describe('IP families', () => {
    it('R16.1: an IPv6 Service with an IPv6 slice', () => {
      const s = svc({
        spec: {
          clusterIP: 'fd00:10:96::a',
          clusterIPs: ['fd00:10:96::a'],
          ipFamilies: ['IPv6'],
          ports: [{ port: 80, targetPort: 9376 }],
        },
      });
      const r = translate(
        s,
        [slice([{ ip: 'fd00:10:244:1::5' }], [{ port: 9376 }])],
        NODE_A,
        config(),
      );
      expect(table(r.virtualServers)).to.deep.equal({
        'TCP [fd00:10:96::a]:80': ['[fd00:10:244:1::5]:9376'],
      });
      expect(r.virtualServers[0]?.netmask).to.equal(128);
      expect(r.virtualServers[0]?.family).to.equal('IPv6');
    });

    it('R16.1/G-25: dual-stack: one VS per family from per-family slices; NodePorts on each family', () => {
      const s = svc({
        spec: {
          type: 'NodePort',
          clusterIP: '10.0.170.92',
          clusterIPs: ['10.0.170.92', 'FD00:10:96:0::A'],
          ipFamilies: ['IPv4', 'IPv6'],
          ipFamilyPolicy: 'RequireDualStack',
          ports: [{ port: 80, nodePort: 30007 }],
        },
      });
      const node = { name: 'node-a', addresses: ['192.168.10.11', '2001:db8::11', 'fe80::1'] };
      const r = translate(
        s,
        [
          slice([A1], [{ port: 8080 }], { name: 'v4' }),
          slice([{ ip: 'fd00:10:244:1::5', node: 'node-a' }], [{ port: 8080 }], { name: 'v6' }),
        ],
        node,
        config(),
      );
      expect(table(r.virtualServers)).to.deep.equal({
        'TCP 10.0.170.92:80': ['10.244.1.5:8080'],
        'TCP 192.168.10.11:30007': ['10.244.1.5:8080'],
        'TCP [2001:db8::11]:30007': ['[fd00:10:244:1::5]:8080'],
        'TCP [fd00:10:96::a]:80': ['[fd00:10:244:1::5]:8080'],
      });
    });

    it('R16.1: families never mix: an IPv6 externalIP on a single-stack IPv4 Service is reported', () => {
      const r = translate(
        svc({ spec: { externalIPs: ['2001:db8::1', '80.11.12.10'] } }),
        [slice([A1])],
        NODE_A,
        config(),
      );
      expect(r.virtualServers.map((v) => v.address)).to.deep.equal(['10.0.170.92', '80.11.12.10']);
      expect(r.skipped[0]?.reason).to.match(/IPv6, not a family of this Service/);
    });

    it('an invalid cluster IP skips the Service with a reason', () => {
      const r = translate(
        svc({ spec: { clusterIP: '10.0.0.300', clusterIPs: ['10.0.0.300'] } }),
        [slice([A1])],
        NODE_A,
        config(),
      );
      expect(r.virtualServers).to.deep.equal([]);
      expect(r.skipped).to.deep.equal([
        {
          object: 'Service default/svc-web',
          field: 'spec.clusterIPs[0]',
          reason: '"10.0.0.300" is not an IP address',
        },
      ]);
    });
  });

  describe('schedulers', () => {
    for (const scheduler of ['rr', 'lc', 'dh', 'sh', 'sed', 'nq'] as const) {
      it(`R2.2: scheduler ${scheduler} from the config applies to every virtual server`, () => {
        const s = svc({ spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30007 }] } });
        const r = translate(s, [slice([A1], [{ port: 80 }])], NODE_A, config({ scheduler }));
        expect(r.virtualServers.map((v) => v.scheduler)).to.deep.equal([scheduler, scheduler]);
      });
    }

    it('G-6: an invalid scheduler annotation is reported against the Service and the config scheduler is used', () => {
      const r = translate(
        svc({ annotations: { 'kube-ipvs.io/scheduler': 'fastest' } }),
        [slice([A1])],
        NODE_A,
        config({ scheduler: 'lc' }),
      );
      expect(r.virtualServers[0]?.scheduler).to.equal('lc');
      expect(r.skipped).to.deep.equal([]);
      expect(r.warnings).to.have.length(1);
      expect(r.warnings[0]?.object).to.equal('Service default/svc-web');
      expect(r.warnings[0]?.field).to.equal('metadata.annotations["kube-ipvs.io/scheduler"]');
    });

    it('G-6: the annotation wins over the config and carries its flags', () => {
      const r = translate(
        svc({
          annotations: {
            'kube-ipvs.io/scheduler': 'sh',
            'kube-ipvs.io/scheduler-flags': 'sh-port,sh-fallback',
          },
        }),
        [slice([A1])],
        NODE_A,
        config({ scheduler: 'lc' }),
      );
      expect(r.virtualServers[0]?.scheduler).to.equal('sh');
      expect(r.virtualServers[0]?.schedulerFlags).to.deep.equal(['flag-1', 'flag-2']);
    });
  });

  it('canonicalises IPv6 so one address written two ways is one key', () => {
    const s = svc({
      spec: {
        clusterIP: 'FD00:10:96:0:0::A',
        clusterIPs: ['FD00:10:96:0:0::A'],
        ports: [{ port: 80 }],
      },
    });
    const r = translate(
      s,
      [slice([{ ip: 'FD00:10:244:1:0:0:0:5' }], [{ port: 80 }])],
      NODE_A,
      config(),
    );
    expect(r.virtualServers[0]?.key).to.equal('TCP/[fd00:10:96::a]:80');
    expect(r.virtualServers[0]?.realServers[0]?.address).to.equal('fd00:10:244:1::5');
  });
});
