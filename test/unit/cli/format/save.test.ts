// ipvsadm -S rendering and ipvsadm's sort order.
import { expect } from 'chai';
import fc from 'fast-check';
import { formatSave, sortSaveEntries } from '../../../../lib/cli/format/save.js';
import {
  compareDestinations,
  compareServices,
  glibcMergeSort,
} from '../../../../lib/cli/format/sort.js';
import { captured } from './list.test.js';
import { dest, svc } from './helpers.js';

describe('lvsadm save renderer (ipvsadm -S)', function () {
  it('-S -n matches ipvsadm output captured in UML, in ipvsadm order', function () {
    expect(formatSave(sortSaveEntries(captured.services), { numeric: true })).to.equal(
      '-A -t 172.16.1.7:31481 -s rr\n' +
        '-A -t 10.0.0.1:80 -s rr -p 60\n' +
        '-a -t 10.0.0.1:80 -r 127.0.0.1:80 -m -w 3\n' +
        '-A -t 10.96.0.1:443 -s rr\n' +
        '-A --sctp-service 10.0.0.2:9000 -s lc\n' +
        '-A -u [fd00::1]:53 -s sh -b sh-port\n' +
        '-a -u [fd00::1]:53 -r [fd00:1::5]:5353 -m -w 1\n' +
        '-A -f 5 -s rr\n',
    );
  });

  it('renders entries in the order given', function () {
    const out = formatSave(
      [
        {
          service: svc({ address: '10.0.0.1', port: 80, flags: 1, timeout: 60 }),
          destinations: [],
        },
        { service: svc({ protocol: 0, fwmark: 5, family: 10, netmask: 128 }), destinations: [] },
      ],
      { numeric: true },
    );
    expect(out).to.equal('-A -t 10.0.0.1:80 -s rr -p 60\n-A -f 5 -6 -s rr\n');
  });

  it('writes masks, pe, -o, -b and every forwarding method and tunnel kind', function () {
    const out = formatSave(
      [
        {
          service: svc({
            protocol: 17,
            address: '10.0.0.1',
            port: 53,
            flags: 1 | 4 | 8,
            timeout: 300,
            netmask: 0xffff0000,
            peName: 'sip',
            scheduler: 'sh',
          }),
          destinations: [
            dest({ address: '10.0.0.2', port: 53, forward: 0, weight: 0 }),
            dest({ address: '10.0.0.3', port: 53, forward: 1 }),
            dest({ address: '10.0.0.4', port: 53, forward: 3, weight: 65535 }),
            dest({ address: '10.0.0.5', port: 53, forward: 2, tunType: 0 }),
            dest({
              address: '10.0.0.6',
              port: 53,
              forward: 2,
              tunType: 1,
              tunPort: 6080,
              tunFlags: 1,
            }),
            dest({ address: '10.0.0.7', port: 53, forward: 2, tunType: 2, tunFlags: 0 }),
            dest({ family: 10, address: 'fd00::7', port: 53, forward: 2, tunType: 2, tunFlags: 1 }),
          ],
        },
        {
          service: svc({
            family: 10,
            address: 'fd00::1',
            port: 80,
            flags: 1,
            timeout: 10,
            netmask: 64,
          }),
          destinations: [],
        },
      ],
      { numeric: true },
    );
    expect(out.split('\n')).to.deep.equal([
      '-A -u 10.0.0.1:53 -s sh -p 300 -M 255.255.0.0 --pe sip -o -b sh-fallback',
      '-a -u 10.0.0.1:53 -r 10.0.0.2:53 -m -w 0',
      '-a -u 10.0.0.1:53 -r 10.0.0.3:53 -g -w 1',
      '-a -u 10.0.0.1:53 -r 10.0.0.4:53 -g -w 65535',
      '-a -u 10.0.0.1:53 -r 10.0.0.5:53 -i -w 1 --tun-type ipip',
      '-a -u 10.0.0.1:53 -r 10.0.0.6:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
      '-a -u 10.0.0.1:53 -r 10.0.0.7:53 -i -w 1 --tun-type gre --tun-nocsum',
      '-a -u 10.0.0.1:53 -r [fd00::7]:53 -i -w 1 --tun-type gre --tun-csum',
      '-A -t [fd00::1]:80 -s rr -p 10 -M 64',
      '',
    ]);
  });

  it('prints an empty -b for a scheduler whose only flag has no name (sh with flag-3)', function () {
    const out = formatSave(
      [
        {
          service: svc({ address: '1.2.3.4', port: 1, scheduler: 'sh', flags: 0x20 }),
          destinations: [],
        },
      ],
      { numeric: true },
    );
    expect(out).to.equal('-A -t 1.2.3.4:1 -s sh -b \n');
  });
});

describe("ipvsadm's sort (libipvs comparators under glibc merge sort)", function () {
  it('compares addresses with a wrapping 32-bit subtraction (10.96.0.1 sorts after 172.16.1.7)', function () {
    const a = svc({ address: '10.96.0.1', port: 443 });
    const b = svc({ address: '172.16.1.7', port: 31481 });
    expect(compareServices(a, b)).to.be.greaterThan(0);
    expect(compareServices(b, a)).to.be.lessThan(0);
    // Within 2^31 of each other the order is numeric.
    expect(
      compareServices(svc({ address: '10.0.0.1' }), svc({ address: '10.0.0.2' })),
    ).to.be.lessThan(0);
  });

  it('puts fwmarks of 2^31 and above before non-fwmark services (wrapped fwmark difference)', function () {
    expect(
      compareServices(
        svc({ protocol: 0, fwmark: 2671273157 }),
        svc({ address: '1.2.3.4', port: 1 }),
      ),
    ).to.be.lessThan(0);
    expect(
      compareServices(svc({ protocol: 0, fwmark: 5 }), svc({ address: '1.2.3.4', port: 1 })),
    ).to.be.greaterThan(0);
  });

  it('orders by family, then protocol, then port', function () {
    expect(
      compareServices(svc({ address: '9.9.9.9' }), svc({ family: 10, address: '::1' })),
    ).to.be.lessThan(0);
    expect(
      compareServices(
        svc({ protocol: 132, address: '1.1.1.1' }),
        svc({ protocol: 17, address: '1.1.1.1' }),
      ),
    ).to.be.greaterThan(0);
    expect(
      compareServices(svc({ address: '1.1.1.1', port: 2 }), svc({ address: '1.1.1.1', port: 10 })),
    ).to.be.lessThan(0);
  });

  it('compares a mixed-family destination pair using the left operand family, as libipvs does', function () {
    const v4 = dest({ family: 2, address: '1.0.0.0', port: 1 });
    const v6 = dest({ family: 10, address: '100::5', port: 1 });
    // IPv4 on the left compares one word (equal), then ports: 0. IPv6 on the left compares all four.
    expect(compareDestinations(v4, v6)).to.equal(0);
    expect(compareDestinations(v6, v4)).to.be.greaterThan(0);
  });

  it('merge sort splits n/2 and keeps the left item on ties (stable)', function () {
    const items = [3, 1, 2, 1, 3].map((v, i) => ({ v, i }));
    const sorted = glibcMergeSort(items, (a, b) => a.v - b.v);
    expect(sorted.map((x) => x.i)).to.deep.equal([1, 3, 2, 0, 4]);
  });

  it('follows the exact merge pattern under a non-transitive comparator (rock-paper-scissors)', function () {
    // a < b when b beats a: r < p, p < s, s < r. The result depends only on the split/merge sequence.
    const beats: Record<string, string> = { r: 's', p: 'r', s: 'p' };
    const cmp = (a: string, b: string): number => (a === b ? 0 : beats[b] === a ? -1 : 1);
    // [r] | [p,s] -> [p,s]; merge: r<p -> r, then p, s.
    expect(glibcMergeSort(['r', 'p', 's'], cmp)).to.deep.equal(['r', 'p', 's']);
    // [s,r] -> [s,r]; [p,s] -> [p,s]; merge: s>p -> p; s=s -> left s; r>s -> s; then r.
    expect(glibcMergeSort(['s', 'r', 'p', 's'], cmp)).to.deep.equal(['p', 's', 's', 'r']);
  });

  it('is a permutation and agrees with Array.sort when the comparator is a total order', function () {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 60 }), (xs) => {
        const got = glibcMergeSort(xs, (a, b) => a - b);
        expect(got).to.deep.equal([...xs].sort((a, b) => a - b));
      }),
    );
  });
});
