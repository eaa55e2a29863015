import { expect } from 'chai';
import fc from 'fast-check';
import {
  canonicalIpText,
  cidrContains,
  classifyIp,
  describeClass,
  hostPort,
  parseCidr,
  parseIp,
  type Cidr,
  type Ip,
} from '../../../lib/net/ip.js';
import { formatInet6 } from '../../../bindings/inet/index.js';

function ip(s: string): Ip {
  const v = parseIp(s);
  if (!v) throw new Error(`test address ${s} does not parse`);
  return v;
}

function cidr(s: string): Cidr {
  const v = parseCidr(s);
  if (!v) throw new Error(`test CIDR ${s} does not parse`);
  return v;
}

describe('net/ip', () => {
  it('parses and canonicalises IPv4 and IPv6 (RFC 5952)', () => {
    expect(parseIp('10.0.170.92')?.text).to.equal('10.0.170.92');
    expect(parseIp('FD00:0:0:0:0:0:0:1')?.text).to.equal('fd00::1');
    expect(parseIp('2001:db8:0:0:1:0:0:1')?.text).to.equal('2001:db8::1:0:0:1');
    expect(parseIp('::')?.text).to.equal('::');
  });

  it('prints embedded IPv4 as glibc inet_ntop does, the text a kernel dump gives back', () => {
    // Before the one codec, the model printed "::ffff:a00:1" and "::102:304" here while the
    // bindings (and so the reconcile loop's view of the kernel) printed the dotted forms.
    expect(parseIp('::ffff:10.0.0.1')?.text).to.equal('::ffff:10.0.0.1');
    expect(parseIp('::ffff:a00:1')?.text).to.equal('::ffff:10.0.0.1');
    expect(parseIp('::102:304')?.text).to.equal('::1.2.3.4');
    expect(parseIp('fd00::102:304')?.text).to.equal('fd00::102:304');
    expect(parseCidr('::ffff:0:0/96')?.text).to.equal('::ffff:0.0.0.0/96');
    for (const s of ['::ffff:10.0.0.1', '::1.2.3.4', 'fd00::1', '::1']) {
      const ip = parseIp(s);
      expect(ip && formatInet6(ip.bytes)).to.equal(ip?.text);
    }
    expect(hostPort('::1.2.3.4', 80)).to.equal('[::1.2.3.4]:80');
  });

  it('names address classes with the right article', () => {
    expect(describeClass('ipv4-mapped')).to.equal('an IPv4-mapped address');
    expect(describeClass('unspecified')).to.equal('an unspecified address');
    expect(describeClass('loopback')).to.equal('a loopback address');
    expect(classifyIp(ip('::ffff:1.2.3.4'))).to.equal('ipv4-mapped');
    expect(classifyIp(ip('::1.2.3.4'))).to.equal('unicast');
  });

  it('refuses malformed addresses', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1::2::3',
      'fe80::1%eth0',
      ':::',
      'g::1',
      '1:2:3:4:5:6:7:8:9',
      'None',
      ' 1.2.3.4',
    ]) {
      expect(parseIp(bad), bad).to.equal(undefined);
    }
  });

  it('round-trips every IPv6 address through its canonical text', () => {
    fc.assert(
      fc.property(fc.ipV6(), (s) => {
        const ip = parseIp(s);
        expect(ip, s).to.not.equal(undefined);
        expect(parseIp(ip?.text)?.text).to.equal(ip?.text);
        expect(Array.from(parseIp(ip?.text)?.bytes ?? [])).to.deep.equal(
          Array.from(ip?.bytes ?? []),
        );
      }),
    );
  });

  it('CIDR containment and masking', () => {
    const c = cidr('192.168.10.77/24');
    expect(c.text).to.equal('192.168.10.0/24');
    expect(cidrContains(c, ip('192.168.10.11'))).to.equal(true);
    expect(cidrContains(c, ip('192.168.11.11'))).to.equal(false);
    expect(cidrContains(c, ip('fd00::1'))).to.equal(false);
    expect(parseCidr('10.0.0.0/33')).to.equal(undefined);
    expect(parseCidr('fd00::/129')).to.equal(undefined);
  });

  it('R7.5: classifies loopback, link-local and multicast ranges of both families', () => {
    const cls = (s: string) => classifyIp(ip(s));
    expect(cls('127.0.0.1')).to.equal('loopback');
    expect(cls('169.254.1.1')).to.equal('link-local');
    expect(cls('224.0.0.5')).to.equal('multicast');
    expect(cls('::1')).to.equal('loopback');
    expect(cls('fe80::1')).to.equal('link-local');
    expect(cls('10.0.0.1')).to.equal('unicast');
    expect(cls('0.0.0.0')).to.equal('unspecified');
  });

  it('cidrContains agrees with comparing the masked address, at every prefix of both families', () => {
    // The reference masks a copy, as containment was first written.
    const masked = (b: Uint8Array, prefix: number): number[] =>
      Array.from(
        b,
        (x, i) => x & ((0xff << (8 - Math.max(0, Math.min(8, prefix - i * 8)))) & 0xff),
      );
    const prop = (addr: string, net: string, max: number) =>
      fc.property(fc.integer({ min: 0, max }), (prefix) => {
        const c = cidr(`${net}/${prefix}`);
        const a = ip(addr);
        const want = masked(a.bytes, prefix).every((x, i) => x === c.bytes[i]);
        expect(cidrContains(c, a), `${addr} in ${c.text}`).to.equal(want);
      });
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), (a, n) => fc.assert(prop(a, n, 32), { numRuns: 8 })),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), (a, n) => fc.assert(prop(a, n, 128), { numRuns: 8 })),
      { numRuns: 100 },
    );
    // A shared prefix is where a masking slip would show: same /20, differing after it.
    expect(cidrContains(cidr('10.1.16.0/20'), ip('10.1.31.255'))).to.equal(true);
    expect(cidrContains(cidr('10.1.16.0/20'), ip('10.1.32.0'))).to.equal(false);
    expect(cidrContains(cidr('fe80::/10'), ip('febf::1'))).to.equal(true);
    expect(cidrContains(cidr('fe80::/10'), ip('fec0::1'))).to.equal(false);
    expect(cidrContains(cidr('0.0.0.0/0'), ip('203.0.113.9'))).to.equal(true);
  });

  it('canonicalIpText is parseIp().text, for addresses and for anything else', () => {
    const same = (s: unknown): void => {
      expect(canonicalIpText(s), String(s)).to.equal(parseIp(s)?.text);
    };
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string()), same));
    for (const s of ['010.0.0.1', '1.2.3', '1.2.3.4.5', 'FD00:0::1', '::ffff:1.2.3.4', '', 7, null])
      same(s);
    expect(canonicalIpText('FD00:0::1')).to.equal('fd00::1');
  });
});
