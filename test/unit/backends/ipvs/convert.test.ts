import { expect } from 'chai';
import {
  copyDestination,
  ipvsNetmask,
  sortIpvsEntries,
  toIpvsEntry,
  toIpvsService,
} from '../../../../lib/backends/ipvs/convert.js';
import { virtualServerKey, type VirtualServer } from '../../../../lib/model/types.js';
import { ipvsDestination } from '../../../fixtures/ipvs-objects.js';

function vs(over: Partial<VirtualServer> & Pick<VirtualServer, 'address' | 'port'>): VirtualServer {
  const protocol = over.protocol ?? 'TCP';
  return {
    key: virtualServerKey(protocol, over.address, over.port),
    family: over.address.includes(':') ? 'IPv6' : 'IPv4',
    protocol,
    scheduler: 'rr',
    schedulerFlags: [],
    persistenceTimeout: 0,
    netmask: over.address.includes(':') ? 128 : 32,
    trafficPolicy: 'Cluster',
    realServers: [],
    owner: { namespace: 'ns', name: 'svc', portName: '', servicePort: 80, kind: 'ClusterIP' },
    ...over,
  };
}

describe('backends/ipvs/convert (VirtualServer → IpvsService/IpvsDestination)', () => {
  it('maps family, protocol, scheduler and real servers (NAT forwarding, weight) (R2.1, G-3)', () => {
    const e = toIpvsEntry(
      vs({
        address: '10.0.170.92',
        port: 80,
        realServers: [
          { address: '10.244.1.5', port: 8080, weight: 1 },
          { address: '10.244.2.5', port: 8080, weight: 0 },
        ],
      }),
    );
    expect(e.service).to.deep.equal({
      family: 2,
      protocol: 6,
      address: '10.0.170.92',
      port: 80,
      fwmark: 0,
      scheduler: 'rr',
      flags: 0,
      timeout: 0,
      netmask: 0xffffffff,
      peName: '',
    });
    expect(
      e.destinations.map((d) => [d.family, d.address, d.port, d.forward, d.weight]),
    ).to.deep.equal([
      [2, '10.244.1.5', 8080, 0, 1],
      [2, '10.244.2.5', 8080, 0, 0],
    ]);
  });

  it('a destination holds six fields of its own; its constants read and compare as fields', () => {
    const [d] = toIpvsEntry(
      vs({
        address: '10.0.170.92',
        port: 80,
        realServers: [{ address: '10.244.1.5', port: 8080, weight: 1 }],
      }),
    ).destinations;
    // The 100 000 of bench scale stay in the observed table: twelve own fields each would be
    // 4.8 MB more.
    expect(Object.keys(d ?? {})).to.have.members([
      'family',
      'address',
      'port',
      'weight',
      'activeConns',
      'inactiveConns',
    ]);
    const all = ipvsDestination('10.244.1.5', { activeConns: 0, inactiveConns: 0 });
    expect(d).to.deep.equal(all);
    // A copy writes every field out: a spread would have dropped the six constants.
    const copy = d && copyDestination(d, 0, 3, 4);
    expect(copy && Object.keys(copy)).to.have.length(12);
    expect(copy).to.deep.equal({ ...all, weight: 0, activeConns: 3, inactiveConns: 4 });
  });

  it('persistence sets IP_VS_SVC_F_PERSISTENT and the timeout; scheduler flags their bits (R9.1, R2.2)', () => {
    const s = toIpvsService(
      vs({
        address: 'fd00::a',
        port: 53,
        protocol: 'UDP',
        scheduler: 'sh',
        schedulerFlags: ['flag-1', 'flag-2'],
        persistenceTimeout: 10800,
      }),
    );
    expect(s).to.include({
      family: 10,
      protocol: 17,
      flags: 0x01 | 0x08 | 0x10,
      timeout: 10800,
      netmask: 128,
    });
    expect(toIpvsService(vs({ address: '10.0.0.1', port: 1, protocol: 'SCTP' })).protocol).to.equal(
      132,
    );
  });

  it('IPv4 netmasks are host-order u32 masks, IPv6 prefix lengths', () => {
    expect(ipvsNetmask('IPv4', 32)).to.equal(0xffffffff);
    expect(ipvsNetmask('IPv4', 24)).to.equal(0xffffff00);
    expect(ipvsNetmask('IPv4', 0)).to.equal(0);
    expect(ipvsNetmask('IPv6', 64)).to.equal(64);
  });

  it('sorts services by family, protocol, numeric address, port; destinations by address, port', () => {
    const entries = [
      vs({ address: '192.168.10.11', port: 30080 }),
      vs({ address: 'fd00::1', port: 80 }),
      vs({ address: '10.0.0.10', port: 80, protocol: 'UDP' }),
      vs({ address: '10.0.0.9', port: 443 }),
      vs({
        address: '10.0.0.9',
        port: 80,
        realServers: [
          { address: '10.1.0.10', port: 1, weight: 1 },
          { address: '10.1.0.9', port: 2, weight: 1 },
          { address: '10.1.0.9', port: 1, weight: 1 },
        ],
      }),
    ].map(toIpvsEntry);
    const sorted = sortIpvsEntries(entries);
    expect(
      sorted.map((e) => `${e.service.protocol} ${e.service.address}:${e.service.port}`),
    ).to.deep.equal([
      '6 10.0.0.9:80',
      '6 10.0.0.9:443',
      '6 192.168.10.11:30080',
      '17 10.0.0.10:80',
      '6 fd00::1:80',
    ]);
    expect(sorted[0]?.destinations.map((d) => `${d.address}:${d.port}`)).to.deep.equal([
      '10.1.0.9:1',
      '10.1.0.9:2',
      '10.1.0.10:1',
    ]);
  });
});
