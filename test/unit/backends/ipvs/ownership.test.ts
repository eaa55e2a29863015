// backends/ipvs/ownership: which virtual servers on a node kube-ipvs may change.
import { expect } from 'chai';
import type { IpvsService } from '../../../../bindings/ipvs/types.js';
import { ipvsService } from '../../../fixtures/ipvs-objects.js';
import { owns, type Ownership } from '../../../../lib/backends/ipvs/ownership.js';

const s = (address: string, port: number, over: Partial<IpvsService> = {}) =>
  ipvsService({ address, port, ...over });

describe('backends/ipvs/ownership', () => {
  const o: Ownership = {
    virtualAddresses: new Set(['10.96.0.10', '10.96.5.5']),
    nodeAddresses: new Set(['192.168.1.10']),
    excludeCIDRs: ['10.96.5.0/24'],
    wanted: (k) => k === 'TCP/192.168.1.10:8443',
  };

  it('owns virtual servers on the dummy interface', () => {
    expect(owns(o, s('10.96.0.10', 80))).to.equal(true);
  });
  it('owns NodePorts on node addresses (default range, or desired now)', () => {
    expect(owns(o, s('192.168.1.10', 30080))).to.equal(true);
    expect(owns(o, s('192.168.1.10', 8443))).to.equal(true);
    expect(owns(o, s('192.168.1.10', 22))).to.equal(false);
  });
  it('never touches excludeCIDRs, other addresses or fwmark services', () => {
    expect(owns(o, s('10.96.5.5', 80))).to.equal(false);
    expect(owns(o, s('192.0.2.50', 9999))).to.equal(false);
    expect(owns(o, s('', 0, { fwmark: 7, protocol: 0 }))).to.equal(false);
  });
});
