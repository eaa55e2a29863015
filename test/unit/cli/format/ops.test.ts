// cli/format/ops: `kube-ipvs plan` lines, in ipvsadm's save syntax with each change's letter.
import { expect } from 'chai';
import type { IpvsDestination, IpvsService } from '../../../../bindings/ipvs/types.js';
import { formatOp } from '../../../../lib/cli/format/ops.js';

const tcp: IpvsService = {
  family: 2,
  protocol: 6,
  address: '10.96.0.10',
  port: 80,
  fwmark: 0,
  scheduler: 'rr',
  flags: 1,
  timeout: 10800,
  netmask: 0xffffffff,
  peName: '',
};
const udp6: IpvsService = {
  ...tcp,
  family: 10,
  protocol: 17,
  address: 'fd00::a',
  port: 53,
  flags: 0,
  timeout: 0,
  netmask: 128,
};
const dest = (family: 2 | 10, address: string, weight = 1): IpvsDestination => ({
  family,
  address,
  port: 8080,
  forward: 0,
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunType: 0,
  tunPort: 0,
  tunFlags: 0,
});

describe('cli/format/ops (kube-ipvs plan)', () => {
  it('prints each operation as ipvsadm would take it', () => {
    const lines = [
      formatOp({ op: 'bindAddress', address: '10.96.0.10' }, 'kube-ipvs0'),
      formatOp({ op: 'addService', service: tcp }, 'kube-ipvs0'),
      formatOp({ op: 'updateService', service: { ...tcp, scheduler: 'sh' } }, 'kube-ipvs0'),
      formatOp({ op: 'addDestination', service: tcp, destination: dest(2, '10.244.0.5') }, 'x'),
      formatOp(
        { op: 'updateDestination', service: tcp, destination: dest(2, '10.244.0.5', 0) },
        'x',
      ),
      formatOp({ op: 'deleteDestination', service: udp6, destination: dest(10, 'fd00:1::5') }, 'x'),
      formatOp({ op: 'deleteService', service: udp6 }, 'x'),
      formatOp({ op: 'unbindAddress', address: 'fd00::a' }, 'kube-ipvs0'),
    ];
    expect(lines).to.deep.equal([
      'ip address add 10.96.0.10/32 dev kube-ipvs0',
      '-A -t 10.96.0.10:80 -s rr -p 10800',
      '-E -t 10.96.0.10:80 -s sh -p 10800',
      '-a -t 10.96.0.10:80 -r 10.244.0.5:8080 -m -w 1',
      '-e -t 10.96.0.10:80 -r 10.244.0.5:8080 -m -w 0',
      '-d -u [fd00::a]:53 -r [fd00:1::5]:8080',
      '-D -u [fd00::a]:53',
      'ip address del fd00::a/128 dev kube-ipvs0',
    ]);
  });
});
