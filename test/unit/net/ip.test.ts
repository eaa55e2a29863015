import { expect } from 'chai';
import fc from 'fast-check';
import {
  cidrContains,
  classifyIp,
  parseCidr,
  parseIp,
  type Cidr,
  type Ip,
} from '../../../lib/model/index.js';

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

describe('model/ip', () => {
  it('parses and canonicalises IPv4 and IPv6 (RFC 5952)', () => {
    expect(parseIp('10.0.170.92')?.text).to.equal('10.0.170.92');
    expect(parseIp('FD00:0:0:0:0:0:0:1')?.text).to.equal('fd00::1');
    expect(parseIp('2001:db8:0:0:1:0:0:1')?.text).to.equal('2001:db8::1:0:0:1');
    expect(parseIp('::ffff:10.0.0.1')?.text).to.equal('::ffff:a00:1');
    expect(parseIp('::')?.text).to.equal('::');
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
});
