// cli/format/ops: `kube-ipvs plan` lines, in ipvsadm's save syntax with each change's letter.
import { expect } from 'chai';
import { ipvsDestination, ipvsService } from '../../../fixtures/ipvs-objects.js';
import { formatOp } from '../../../../lib/cli/format/ops.js';

const tcp = ipvsService({ flags: 1, timeout: 10800 });
const udp6 = ipvsService({ family: 10, protocol: 17, address: 'fd00::a', port: 53, netmask: 128 });
const dest = (family: 2 | 10, address: string, weight = 1) =>
  ipvsDestination(address, { family, weight });

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
      'ip route add local 10.96.0.10/32 dev kube-ipvs0 table local proto static',
      '-A -t 10.96.0.10:80 -s rr -p 10800',
      '-E -t 10.96.0.10:80 -s sh -p 10800',
      '-a -t 10.96.0.10:80 -r 10.244.0.5:8080 -m -w 1',
      '-e -t 10.96.0.10:80 -r 10.244.0.5:8080 -m -w 0',
      '-d -u [fd00::a]:53 -r [fd00:1::5]:8080',
      '-D -u [fd00::a]:53',
      'ip route del local fd00::a/128 dev kube-ipvs0 table local proto static',
    ]);
  });
});
