import { expect } from 'chai';
import fc from 'fast-check';
import {
  formatIPv6,
  parseIPv4,
  parseIPv6,
  canonicalAddress,
} from '../../../../bindings/ipvs/address.js';
import { AF_INET6 } from '../../../../bindings/ipvs/types.js';

// Expected strings are what glibc inet_ntop printed for these addresses on this host.
const glibc: Array<[string, string]> = [
  ['::', '::'],
  ['::1', '::1'],
  ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
  ['::1.2.3.4', '::1.2.3.4'],
  ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
  ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
  ['1:0:1:1:1:1:1:1', '1:0:1:1:1:1:1:1'],
  ['::ffff:0:1.2.3.4', '::ffff:0:102:304'],
  ['fd00:0:0:0:0:0:0:0', 'fd00::'],
  ['0:0:1::', '0:0:1::'],
  ['::2:3:4:5:6:7', '::2:3:4:5:6:7'],
  ['0:1:0:0:0:0:0:0', '0:1::'],
  ['::0.0.1.0', '::100'],
  ['::ffff:0.0.0.0', '::ffff:0.0.0.0'],
  ['FD00:0DB8::0001', 'fd00:db8::1'],
];

describe('IPVS address text', () => {
  for (const [input, want] of glibc) {
    it(`prints ${input} as inet_ntop does: ${want}`, () => {
      expect(canonicalAddress(AF_INET6, input)).to.equal(want);
    });
  }

  it('parses IPv4 to network-order bytes', () => {
    expect([...parseIPv4('10.96.0.1')]).to.deep.equal([10, 96, 0, 1]);
    expect(() => parseIPv4('10.96.0')).to.throw(TypeError);
  });

  it('refuses IPv6 with a zone', () => {
    expect(() => parseIPv6('fe80::1%eth0')).to.throw(TypeError);
  });

  it('property: parse(format(bytes)) gives the bytes back, and format is a fixed point', () => {
    const word = fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const b = Buffer.alloc(16);
        words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
        const text = formatIPv6(b);
        expect(parseIPv6(text).equals(b)).to.equal(true);
        expect(canonicalAddress(AF_INET6, text)).to.equal(text);
      }),
      { numRuns: 2000 },
    );
  });
});
