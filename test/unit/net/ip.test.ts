import { expect } from 'chai';
import fc from 'fast-check';
import {
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
});
