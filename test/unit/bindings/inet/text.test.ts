// The one IP text codec, checked against glibc itself. The tables below are fixture data
// produced once on this project's Debian host with Python, whose socket.inet_ntop and
// socket.inet_pton call glibc's functions:
//   python3 -c "import socket; print(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(H)))"
//   python3 -c "import socket; socket.inet_pton(socket.AF_INET6, S)"   (OSError = refused)
// They are what ipvsadm prints, which lvsadm reproduces byte for byte.
import { expect } from 'chai';
import fc from 'fast-check';
import {
  canonicalInet,
  formatInet,
  formatInet4,
  formatInet6,
  hostPort,
  parseInet,
  parseInet4,
  parseInet6,
  writeInet4,
} from '../../../../bindings/inet/index.js';

/** bytes (hex) → glibc inet_ntop(AF_INET6). */
const NTOP6: readonly [string, string][] = [
  ['00000000000000000000000000000000', '::'],
  ['00000000000000000000000000000001', '::1'],
  ['00000000000000000000000001020304', '::1.2.3.4'],
  ['00000000000000000000ffff01020304', '::ffff:1.2.3.4'],
  ['00000000000000000000ffff00000000', '::ffff:0.0.0.0'],
  ['00000000000000000000000000010000', '::0.1.0.0'],
  ['00000000000000000000000000000100', '::100'],
  ['000000000000000000000000ffffffff', '::255.255.255.255'],
  ['0000000000000000000100000a000001', '::1:0:a00:1'],
  ['00000000000000000000fffe01020304', '::fffe:102:304'],
  ['fd000000000000000000000001020304', 'fd00::102:304'],
  ['fd000000000000000000ffff01020304', 'fd00::ffff:102:304'],
  ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
  ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
  ['20010db8000000000000000100000000', '2001:db8::1:0:0'],
  ['20010db8000100000000000000000000', '2001:db8:1::'],
  ['00000000000000010000000000000000', '0:0:0:1::'],
  ['fe800000000000000000000000000000', 'fe80::'],
  ['ff020000000000000000000000000001', 'ff02::1'],
  ['20010db8aaaabbbbccccddddeeeeffff', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff'],
  ['00010000000000000000000000000000', '1::'],
  ['0000000000000000000000000000ffff', '::ffff'],
  ['00000000000000000000ffff0000ffff', '::ffff:0.0.255.255'],
  ['64ff9b00000000000000000001020304', '64ff:9b00::102:304'],
];

/** text → glibc inet_ntop(inet_pton(AF_INET6, text)), or null when inet_pton refuses it. */
const PTON6: readonly [string, string | null][] = [
  ['::', '::'],
  ['::1', '::1'],
  ['1::', '1::'],
  ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
  ['1:2:3:4:5:6:7:8::', null],
  ['1:2:3:4::5:6:7:8', null],
  [':1::', null],
  ['1:::2', null],
  [':::', null],
  ['1:', null],
  [':1', null],
  ['::1.2.3.4', '::1.2.3.4'],
  ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
  ['1.2.3.4::', null],
  ['::1.2.3.4:5', null],
  ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ['1:2:3:4:5:1.2.3.4::', null],
  ['::01.2.3.4', null],
  ['::1.2.3', null],
  ['::256.1.1.1', null],
  ['12345::', null],
  ['FD00::A', 'fd00::a'],
  ['fe80::1%eth0', null],
  ['::1.2.3.04', null],
  ['1::2::3', null],
  ['', null],
  ['0:0:0:0:0:0:0:0', '::'],
  ['00000::', null],
  ['::a.b.c.d', null],
  ['1:2:3:4:5:6:7:1.2.3.4', null],
];

/** text → glibc inet_pton(AF_INET, text) then inet_ntop, or null when refused. */
const PTON4: readonly [string, string | null][] = [
  ['1.2.3.4', '1.2.3.4'],
  ['01.2.3.4', null],
  ['1.2.3', null],
  ['1.2.3.4.5', null],
  ['256.0.0.1', null],
  ['0.0.0.0', '0.0.0.0'],
  ['1..2.3', null],
  ['1.2.3.4.', null],
  [' 1.2.3.4', null],
  ['1.2.3.0x4', null],
  ['255.255.255.255', '255.255.255.255'],
  ['1.2.3.00', null],
];

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

describe('bindings/inet: the one IP text codec (glibc inet_ntop/inet_pton)', () => {
  for (const [hex, want] of NTOP6) {
    it(`inet_ntop6 ${hex} = ${want}`, () => {
      expect(formatInet6(fromHex(hex))).to.equal(want);
      expect(formatInet(fromHex(hex))).to.equal(want);
      // and the text parses back to the same bytes
      expect(Buffer.from(parseInet6(want) ?? []).toString('hex')).to.equal(hex);
    });
  }

  for (const [text, want] of PTON6) {
    it(`inet_pton6 ${JSON.stringify(text)} → ${want ?? 'refused'}`, () => {
      const b = parseInet6(text);
      expect(b ? formatInet6(b) : null).to.equal(want);
    });
  }

  for (const [text, want] of PTON4) {
    it(`inet_pton4 ${JSON.stringify(text)} → ${want ?? 'refused'}`, () => {
      const b = parseInet4(text);
      expect(b ? formatInet4(b) : null).to.equal(want);
      expect(canonicalInet(text) ?? null).to.equal(want);
    });
  }

  it('parseInet picks the family by syntax; canonicalInet gives the glibc text', () => {
    expect(parseInet('10.0.0.1')?.length).to.equal(4);
    expect(parseInet('::ffff:10.0.0.1')?.length).to.equal(16);
    expect(parseInet('nope')).to.equal(undefined);
    expect(canonicalInet('::FFFF:0102:0304')).to.equal('::ffff:1.2.3.4');
    expect(canonicalInet('0:0:0:0:0:0:102:304')).to.equal('::1.2.3.4');
  });

  it('writeInet4 leaves the buffer alone on failure', () => {
    const b = Uint8Array.from([9, 9, 9, 9, 9]);
    expect(writeInet4('1.2.3', b, 1)).to.equal(false);
    expect([...b]).to.deep.equal([9, 9, 9, 9, 9]);
    expect(writeInet4('1.2.3.4', b, 1)).to.equal(true);
    expect([...b]).to.deep.equal([9, 1, 2, 3, 4]);
  });

  it('hostPort brackets IPv6 only', () => {
    expect(hostPort('10.0.0.1', 80)).to.equal('10.0.0.1:80');
    expect(hostPort('::1.2.3.4', 53)).to.equal('[::1.2.3.4]:53');
  });

  // Independent of the formatter: the uncompressed form of random bytes (built here with
  // plain hex) parses to the same bytes, and the canonical form is a fixed point.
  it('any 16 bytes round-trip through text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (u) => {
        const full = Array.from({ length: 8 }, (_, i) =>
          (((u[2 * i] as number) << 8) | (u[2 * i + 1] as number)).toString(16),
        ).join(':');
        const b = parseInet6(full);
        expect(b && Buffer.from(b).equals(Buffer.from(u))).to.equal(true);
        const text = formatInet6(u);
        expect(text).to.equal(text.toLowerCase());
        expect(Buffer.from(parseInet6(text) ?? []).equals(Buffer.from(u))).to.equal(true);
        expect(canonicalInet(text)).to.equal(text);
      }),
      { numRuns: 2000 },
    );
  });
});
